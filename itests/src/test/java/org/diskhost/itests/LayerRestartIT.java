package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import org.diskhost.paxexam.DiskhostOptions;
import org.diskhost.paxexam.HostProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.options.ProvisionOption;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * A SQLite diff's data survives a restart of the framework, as a restart of the host would do it: a fresh Felix
 * (clean bundle cache) on the same configuration file and data directory. The base file is never written. This is
 * also the SQLite driver bundle, with its native library, at work in OSGi.
 */
class LayerRestartIT {
    /** The bundles Pax Exam tests get, installed here by hand: the same list, from the same jars. */
    private static final List<String> BUNDLES = Arrays.stream(OptionUtils.filter(ProvisionOption.class,
            DiskhostOptions.host(), DiskhostOptions.backends("file", "layered", "layer-sqlite")))
            .map(option -> ((ProvisionOption<?>) option).getURL()).toList();

    @TempDir
    Path dir;

    private Framework start(Path config, Path data) throws Exception {
        Map<String, String> properties = new HashMap<>();
        properties.put(Constants.FRAMEWORK_STORAGE, dir.resolve("felix-cache").toString());
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put("diskhost.config", config.toString());
        properties.put("diskhost.data", data.toString());
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow()
                .newFramework(properties);
        framework.init();
        List<Bundle> installed = new ArrayList<>();
        for (String location : BUNDLES) {
            installed.add(framework.getBundleContext().installBundle(location));
        }
        framework.start();
        for (Bundle bundle : installed) {
            bundle.start();
        }
        return framework;
    }

    private static void stop(Framework framework) throws Exception {
        framework.stop();
        framework.waitForStop(30_000);
    }

    private static String shell(BundleContext context, String function, Object... args) throws Exception {
        return new HostProbe(context).shell(function, args);
    }

    private static void awaitReady(BundleContext context, String disk) throws Exception {
        String ready = new HostProbe(context).awaitShell("READY", "disks");
        assertTrue(ready.lines().anyMatch(l -> l.startsWith(disk + " ") && l.contains("READY")), ready);
    }

    @Test
    void aSqliteDiffKeepsItsDataAcrossAFrameworkRestart() throws Exception {
        Path data = Files.createDirectories(dir.resolve("var"));
        byte[] base = new byte[1 << 20];
        for (int i = 0; i < base.length; i++) {
            base[i] = (byte) (i % 251);
        }
        Files.write(data.resolve("base.img"), base);
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, """
                {"disks": {"persist": {"kind": "sqlitediff", "path": "persist.dbhd",
                                       "disk": {"kind": "file", "path": "base.img"}}}}
                """);
        String text = "diskhost sqlite diff survives a restart";
        String hex = HexFormat.of().formatHex(text.getBytes(StandardCharsets.US_ASCII));

        Framework first = start(config, data);
        try {
            awaitReady(first.getBundleContext(), "persist");
            shell(first.getBundleContext(), "write", "persist", 7L, hex);
        } finally {
            stop(first);
        }
        assertTrue(Files.exists(data.resolve("persist.dbhd")));

        Framework second = start(config, data);
        try {
            awaitReady(second.getBundleContext(), "persist");
            String dump = shell(second.getBundleContext(), "read", "persist", 7L, 1);
            assertTrue(dump.contains("diskhost sqlite ") && dump.contains("diff survives a ") && dump.contains("rest"),
                    dump);
            String below = shell(second.getBundleContext(), "read", "persist", 8L, 1);
            assertTrue(below.startsWith("000000001000  50 51 52 53"), "the base shows through: " + below);
        } finally {
            stop(second);
        }
        assertArrayEquals(base, Files.readAllBytes(data.resolve("base.img")), "the base file is never written");
    }
}
