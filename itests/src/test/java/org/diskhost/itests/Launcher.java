package org.diskhost.itests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The host as users run it: {@code bin/diskhost} on the distribution this build assembled, with a test's own
 * configuration, data and deploy directories, as a separate process. Its output goes to a file, not a pipe:
 * {@link Process#destroy()} closes the pipes, which would lose the shutdown messages.
 */
final class Launcher implements AutoCloseable {
    static final Path ROOT = Path.of(System.getProperty("diskhost.bundles")).resolve("../../..").normalize();
    static final Path DIST = ROOT.resolve("host/launcher/target/diskhost");

    private final Path log;
    private final Process process;

    private Launcher(Path log, Process process) {
        this.log = log;
        this.process = process;
    }

    /**
     * Starts {@code bin/diskhost} with {@code config}, the data directory {@code dir/var} and the deploy directory
     * {@code dir/deploy}. The script never builds here ({@code DISKHOST_BUILD=never}): the build under test is there.
     */
    static Launcher start(Path dir, Path config) throws IOException {
        return start(dir, config, Map.of());
    }

    /**
     * As {@link #start(Path, Path)}, with {@code environment} added to the host's environment and {@code arguments}
     * to its command line.
     */
    static Launcher start(Path dir, Path config, Map<String, String> environment, String... arguments)
            throws IOException {
        Path log = dir.resolve("diskhost.log");
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/diskhost").toString(),
                "--config", config.toString(), "--data", dir.resolve("var").toString(),
                "--deploy", dir.resolve("deploy").toString(), "--no-shell"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(Map.of("DISKHOST_BUILD", "never"));
        builder.environment().putAll(environment);
        return new Launcher(log, builder.start());
    }

    /** Starts the host with a configuration given as JSON text (written to {@code dir/diskhost.json}). */
    static Launcher start(Path dir, String configJson) throws IOException {
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, configJson);
        return start(dir, config);
    }

    Process process() {
        return process;
    }

    /** Waits until the output has {@code times} lines containing {@code text}, for at most a minute. */
    void await(String text, int times) throws InterruptedException, IOException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            List<String> output = Files.readAllLines(log);
            if (output.stream().filter(l -> l.contains(text)).count() >= times) {
                return;
            }
            if (System.currentTimeMillis() > deadline || !process.isAlive()) {
                throw new AssertionError("no \"" + text + "\" (x" + times + ") in the output"
                        + (process.isAlive() ? "" : " (the host exited)") + ":\n" + String.join("\n", output));
            }
            Thread.sleep(100);
        }
    }

    void await(String text) throws InterruptedException, IOException {
        await(text, 1);
    }

    /** The host's output so far. */
    String output() throws IOException {
        return Files.readString(log);
    }

    /** Stops the host as Ctrl-C or systemd would (SIGTERM) and waits for it to exit. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("the host did not stop within 60 s");
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
