package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution archive as an appliance vendor ships it: unpacked in a clean directory, started with no JDK on the
 * {@code PATH} and no {@code JAVA_HOME}, its demo disk read with qemu-img, stopped.
 */
class DistributionIT {
    @TempDir
    Path dir;
    private Process host;

    @AfterEach
    void kill() {
        if (host != null) {
            host.destroyForcibly();
        }
    }

    /** The archive {@code ./mvnw package} left in host/launcher/target. */
    static Path archive() throws Exception {
        try (Stream<Path> files = Files.list(Launcher.ROOT.resolve("host/launcher/target"))) {
            List<Path> found = files.filter(p -> p.getFileName().toString().matches("diskhost-.*-linux-x86_64\\.tar\\.gz"))
                    .toList();
            assertEquals(1, found.size(), "one distribution archive: " + found);
            return found.getFirst();
        }
    }

    /** The PATH without any directory that holds a java or javac. */
    private static String pathWithoutJdks() {
        return Arrays.stream(System.getenv("PATH").split(File.pathSeparator))
                .filter(d -> !d.isEmpty() && !Files.exists(Path.of(d, "java")) && !Files.exists(Path.of(d, "javac")))
                .collect(Collectors.joining(File.pathSeparator));
    }

    @Test
    void theArchiveRunsWithoutAJdkAndServesTheDemoDisk() throws Exception {
        Path archive = archive();
        ExternalTools.ok(dir, "tar", "-xzf", archive.toString());
        String name = archive.getFileName().toString().replace("-linux-x86_64.tar.gz", "");
        Path home = dir.resolve(name);
        for (String entry : List.of("bin/diskhost", "runtime/bin/java", "lib/diskhost-launcher.jar",
                "lib/org.apache.felix.framework.jar", "bundle/diskhost-host-core.jar", "bundle/diskhost-frontend-nbd.jar",
                "conf/diskhost.json", "systemd/diskhost.service", "README.md")) {
            assertTrue(Files.exists(home.resolve(entry)), entry + " is in the archive");
        }
        assertTrue(Files.isExecutable(home.resolve("bin/diskhost")) && Files.isExecutable(home.resolve("runtime/bin/java")));
        assertFalse(Files.exists(home.resolve("runtime/bin/javac")), "a runtime, not a JDK");
        String modules = ExternalTools.ok(dir, home.resolve("runtime/bin/java").toString(), "--list-modules");
        assertEquals(List.of("java.base", "java.logging", "java.management", "java.net.http", "java.sql",
                "java.transaction.xa", "java.xml", "jdk.unsupported"), modules.lines().map(l -> l.replaceAll("@.*", "")).toList());
        String unit = Files.readString(home.resolve("systemd/diskhost.service"));
        assertTrue(unit.contains("Type=notify") && unit.contains("ExecReload=/bin/kill -HUP $MAINPID")
                && unit.contains("NoNewPrivileges=yes") && unit.contains("ProtectSystem=strict"), unit);

        // The shipped configuration serves 'demo' on port 10809; the test moves it to a free port.
        Path conf = home.resolve("conf/diskhost.json");
        String shipped = Files.readString(conf);
        assertTrue(shipped.contains("\"127.0.0.1:10809\""), shipped);
        int port = LauncherTest.freePort();
        Files.writeString(conf, shipped.replace("127.0.0.1:10809", "127.0.0.1:" + port));

        List<String> command = new ArrayList<>(List.of(home.resolve("bin/diskhost").toString(), "--no-shell"));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("diskhost.log").toFile());
        builder.environment().remove("JAVA_HOME");
        builder.environment().put("PATH", pathWithoutJdks());
        host = builder.start();
        String uri = "nbd://127.0.0.1:" + port + "/demo";
        Path copy = dir.resolve("demo-copy.raw");
        ExternalTools.await(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri, copy.toString());
        assertEquals(64L << 20, Files.size(copy));
        String log = Files.readString(dir.resolve("diskhost.log"));
        assertTrue(log.contains("on JDK 25") && log.contains(home.resolve("runtime").toString()),
                "the packaged runtime runs it:\n" + log);
        assertTrue(Files.exists(home.resolve("var/demo.img")), "data in var/ of the distribution by default");

        host.destroy(); // SIGTERM
        assertTrue(host.waitFor(60, TimeUnit.SECONDS), "stopped");
        assertTrue(Files.readString(dir.resolve("diskhost.log")).contains("diskhost stopped"));
    }
}
