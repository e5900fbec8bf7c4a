package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs real external tools in tests (qemu-img, qemu-io, nbdinfo, nbdcopy, fio, openssl). A missing tool skips the
 * test on a developer's machine but fails it in CI (environment variable {@code CI} set), where {@code .ci/run}
 * installs them.
 */
public final class ExternalTools {
    private ExternalTools() {
    }

    public record Result(int exit, String out, String err) {
        /** Fails the test with the tool's output unless it exited 0; returns its standard output. */
        public String ok() {
            if (exit != 0) {
                fail("exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err);
            }
            return out;
        }
    }

    public static void require(String tool) {
        boolean present = List.of(System.getenv("PATH").split(":")).stream()
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
        if (!present && System.getenv("CI") != null) {
            fail(tool + " is not installed; .ci/run installs it");
        }
        assumeTrue(present, tool + " is not installed");
    }

    /**
     * Runs a command in {@code dir} (where tools such as fio leave their state files), with its output in files (so
     * that a hung tool can be killed cleanly), for at most two minutes.
     */
    public static Result run(Path dir, String... command) throws IOException, InterruptedException {
        require(command[0]);
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in 120 s; stderr:\n" + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    public static String ok(Path dir, String... command) throws IOException, InterruptedException {
        return run(dir, command).ok();
    }

    /** Runs a client until it succeeds (the server may still be coming up), for at most 30 s; returns its output. */
    public static String await(Path dir, String... command) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            Result r = run(dir, command);
            if (r.exit() == 0 || System.nanoTime() > deadline) {
                return r.ok();
            }
            Thread.sleep(200);
        }
    }

    public static void assertExit(int expected, Result r) {
        assertEquals(expected, r.exit(), () -> "stdout:\n" + r.out() + "\nstderr:\n" + r.err());
    }
}
