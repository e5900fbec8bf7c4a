package org.diskhost.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.diskhost.testkit.ExternalTools;

/**
 * The launcher as users run it: a real process with the assembled distribution, started with a configuration in a
 * test directory ({@code var/} for data, {@code deploy/} watched for bundles), its output in a log file.
 */
final class LauncherProcess implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("diskhost.bundles")).resolve("../../..").normalize();
    static final Path DIST = ROOT.resolve("host/launcher/target/diskhost");

    private final Path dir;
    private final Path log;
    private final Process process;

    private LauncherProcess(Path dir, Path log, Process process) {
        this.dir = dir;
        this.log = log;
        this.process = process;
    }

    // Output goes to a file, not a pipe: Process.destroy() closes the pipes, which would lose the shutdown messages.
    static LauncherProcess start(Path dir, Path config) throws IOException {
        Path log = dir.resolve("diskhost.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Path launcher;
        try (var files = Files.list(DIST.getParent())) {
            launcher = files.filter(p -> p.getFileName().toString().matches("diskhost-host-launcher-.*\\.jar"))
                    .findFirst().orElseThrow();
        }
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", launcher + ":" + DIST.resolve("lib") + "/*",
                "org.diskhost.launcher.Main", "--config", config.toString(), "--data", dir.resolve("var").toString(),
                "--bundles", DIST.resolve("bundle").toString(), "--deploy", dir.resolve("deploy").toString(),
                "--no-shell").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new LauncherProcess(dir, log, process);
    }

    Process process() {
        return process;
    }

    /** Waits until the output has {@code times} lines containing {@code text}. */
    void await(String text, int times) throws InterruptedException, IOException {
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

    /** Runs a client until it succeeds (the server may still be coming up), for at most 30 s. */
    String awaitTool(String... command) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            ExternalTools.Result r = ExternalTools.run(dir, command);
            if (r.exit() == 0 || System.currentTimeMillis() > deadline) {
                return r.ok();
            }
            Thread.sleep(200);
        }
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        process.destroyForcibly();
    }
}
