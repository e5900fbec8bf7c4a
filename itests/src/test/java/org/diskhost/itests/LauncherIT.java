package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher as users run it: a real process with the assembled distribution. */
class LauncherIT {
    private static final Path DIST = Path.of(System.getProperty("diskhost.bundles")).resolve(
            "../../../host/launcher/target/diskhost").normalize();

    @TempDir
    Path dir;

    private Process process;
    private Path log;

    @AfterEach
    void stop() {
        if (process != null) {
            process.destroyForcibly();
        }
    }

    // Output goes to a file, not a pipe: Process.destroy() closes the pipes, which would lose the shutdown messages.
    private void start(Path config) throws IOException {
        log = dir.resolve("diskhost.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Path launcher;
        try (var files = Files.list(DIST.getParent())) {
            launcher = files.filter(p -> p.getFileName().toString().matches("diskhost-host-launcher-.*\\.jar"))
                    .findFirst().orElseThrow();
        }
        process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", launcher + ":" + DIST.resolve("lib") + "/*",
                "org.diskhost.launcher.Main", "--config", config.toString(), "--data", dir.resolve("var").toString(),
                "--bundles", DIST.resolve("bundle").toString(), "--deploy", dir.resolve("deploy").toString(),
                "--no-shell").redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until the output has {@code times} lines containing {@code text}. */
    private void await(String text, int times) throws InterruptedException, IOException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            List<String> output = Files.readAllLines(log);
            if (output.stream().filter(l -> l.contains(text)).count() >= times) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no \"" + text + "\" (x" + times + ") in the output:\n"
                        + String.join("\n", output));
            }
            Thread.sleep(100);
        }
    }

    @Test
    void startsServesUpgradesReconfiguresAndStopsCleanly() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "4 MiB"}}}
                """);
        start(config);
        await("disk 'demo' is ready", 1);
        assertEquals(4L << 20, Files.size(dir.resolve("var/demo.img")));

        // Dropping a backend jar into the deploy directory upgrades the installed bundle; the disk comes back.
        Files.createDirectories(dir.resolve("deploy"));
        Files.copy(DIST.resolve("bundle/diskhost-backend-file.jar"), dir.resolve("deploy/file-backend.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        await("upgraded org.diskhost.backend.file", 1);
        await("disk 'demo' is ready", 2);

        // A bad edit of the configuration is reported with the disk, the kind and the setting.
        Files.writeString(config, """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "4 MiB"},
                           "bad": {"kind": "file", "path": "bad.img", "create": "1 MiB", "sectorSize": 1000}}}
                """);
        await("disk 'bad', kind 'file', setting 'sectorSize': must be 512 or 4096, got 1000", 1);
        // Malformed JSON changes nothing and says where.
        Files.writeString(config, "{\"disks\": {\n  \"demo\": }\n");
        await("line 2, column 11", 1);
        assertTrue(process.isAlive(), "the host keeps running");

        process.destroy(); // SIGTERM: the shutdown hook stops the framework
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the host stopped");
        await("diskhost stopped", 1);
    }
}
