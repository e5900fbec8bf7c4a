package org.diskhost.paxexam;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.options.FrameworkPropertyOption;
import org.ops4j.pax.exam.options.ProvisionOption;

class DiskhostOptionsTest {
    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        System.clearProperty(DiskhostOptions.BUNDLES_PROPERTY);
    }

    private static List<String> urls(Option... options) {
        return Arrays.stream(OptionUtils.filter(ProvisionOption.class, options))
                .map(option -> ((ProvisionOption<?>) option).getURL()).toList();
    }

    @Test
    void withoutABundleDirectoryBundlesComeFromMavenInThisVersion() {
        List<String> urls = urls(DiskhostOptions.backends("file", "layer-sqlite"));
        assertEquals(3, urls.size(), urls.toString());
        assertTrue(urls.get(0).matches("mvn:org.diskhost/diskhost-backend-file/\\d+\\.\\d+\\.\\d+.*"), urls.toString());
        assertTrue(urls.get(1).startsWith("mvn:org.xerial/sqlite-jdbc/3."), "the driver before its user: " + urls);
        assertEquals("mvn:org.apache.felix/org.apache.felix.scr/2.2.18", urls(DiskhostOptions.host()).stream()
                .filter(u -> u.contains("felix.scr")).findFirst().orElseThrow());
    }

    @Test
    void aBundleDirectoryGivesFileUrlsAndAMissingJarIsNamed() throws Exception {
        Files.createFile(dir.resolve("diskhost-backend-file.jar"));
        System.setProperty(DiskhostOptions.BUNDLES_PROPERTY, dir.toString());
        assertEquals(List.of(dir.resolve("diskhost-backend-file.jar").toUri().toString()),
                urls(DiskhostOptions.backends("file")));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DiskhostOptions.backends("crypt"));
        assertTrue(e.getMessage().contains("has no diskhost-backend-crypt.jar"), e.getMessage());
    }

    @Test
    void theJUnitPlatformComesFromTheTestClassPath() {
        List<String> urls = urls(DiskhostOptions.host());
        assertTrue(urls.stream().anyMatch(u -> u.startsWith("file:") && u.contains("junit-jupiter-engine")),
                urls.toString());
        assertTrue(urls.stream().anyMatch(u -> u.contains("opentest4j")), urls.toString());
    }

    @Test
    void disksAreAConfigurationFileTheHostReads() throws Exception {
        String json = "{\"disks\": {\"d\": {\"kind\": \"ram\", \"size\": \"1 MiB\"}}}";
        FrameworkPropertyOption option = (FrameworkPropertyOption) DiskhostOptions.disks(json);
        assertEquals(DiskhostOptions.CONFIG_PROPERTY, option.getKey());
        assertEquals(json, Files.readString(Path.of((String) option.getValue())));
    }
}
