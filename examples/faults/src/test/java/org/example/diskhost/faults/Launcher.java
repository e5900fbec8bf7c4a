package org.example.diskhost.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The diskhost launcher as a user runs it, from the assembled distribution that the system property
 * {@code diskhost.distribution} names (its {@code lib/} and {@code bundle/}, with the launcher jar beside it, where
 * {@code bin/diskhost} finds them), in a process of its own with a
 * configuration file, a data directory and a deploy directory under {@code dir}. Its output goes to a file, which the
 * tests read.
 */
final class Launcher implements AutoCloseable {
    private final Path dir;
    private final Path log;
    private final Process process;

    private Launcher(Path dir, Process process, Path log) {
        this.dir = dir;
        this.process = process;
        this.log = log;
    }

    static Path distribution() {
        String property = System.getProperty("diskhost.distribution");
        if (property == null) {
            throw new IllegalStateException("set diskhost.distribution to diskhost's distribution directory");
        }
        Path dist = Path.of(property).toAbsolutePath().normalize();
        if (!Files.isDirectory(dist.resolve("bundle"))) {
            throw new IllegalStateException("diskhost.distribution is " + dist + ", which has no bundle/ directory: "
                    + "build diskhost first (./mvnw package)");
        }
        return dist;
    }

    /** The bundle jar of this project, as the build made it. */
    static Path faultsBundle() {
        return Path.of(System.getProperty("faults.bundle"));
    }

    /** Starts the launcher with {@code config} as its configuration, {@code dir/var} as data, {@code dir/deploy}. */
    static Launcher start(Path dir, String config) throws IOException {
        Path dist = distribution();
        Path configFile = dir.resolve("diskhost.json");
        Files.writeString(configFile, config);
        Files.createDirectories(dir.resolve("deploy"));
        Path log = dir.resolve("diskhost.log");
        String java = ProcessHandle.current().info().command().orElse("java"); // JDK 25, chosen by the build
        Path launcher;
        try (var files = Files.list(dist.getParent())) {
            launcher = files.filter(p -> p.getFileName().toString().matches("diskhost-host-launcher-[^-]+(-SNAPSHOT)?\\.jar"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no launcher jar beside " + dist));
        }
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", launcher + ":" + dist.resolve("lib") + "/*",
                "org.diskhost.launcher.Main", "--config", configFile.toString(), "--data", dir.resolve("var").toString(),
                "--bundles", dist.resolve("bundle").toString(), "--deploy", dir.resolve("deploy").toString(),
                "--no-shell").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Launcher(dir, process, log);
    }

    Path data() {
        return dir.resolve("var");
    }

    Path deploy() {
        return dir.resolve("deploy");
    }

    /** Replaces the configuration file; the host sees the change within a second or two. */
    void configure(String config) throws IOException {
        Files.writeString(dir.resolve("diskhost.json"), config);
    }

    /** Waits up to a minute until the output has {@code times} lines containing {@code text}. */
    void await(String text, int times) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<String> output = Files.readAllLines(log);
            if (output.stream().filter(l -> l.contains(text)).count() >= times) {
                return;
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("no \"" + text + "\" (x" + times + ") in the host's output"
                        + (process.isAlive() ? "" : " (the host exited)") + ":\n" + String.join("\n", output));
            }
            Thread.sleep(100);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
