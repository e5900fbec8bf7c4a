package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs nbdsh, libnbd's Python shell, as {@code /usr/bin/python3 -m nbd} (the {@code nbdsh} script would pick up
 * whichever {@code python3} comes first on the PATH, which may lack the {@code nbd} module). Like
 * {@link ExternalTools}, a missing python3-libnbd skips the test on a developer's machine and fails it in CI.
 */
public final class Nbdsh {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String BYTE_CHECKS = "nbd_bytes.py";

    private Nbdsh() {
    }

    /** Fails (in CI) or skips the test when nbdsh cannot run. */
    public static void require() throws IOException, InterruptedException {
        ExternalTools.require(PYTHON);
        boolean present = ExternalTools.run(Path.of(System.getProperty("java.io.tmpdir")), PYTHON, "-c", "import nbd")
                .exit() == 0;
        if (!present && System.getenv("CI") != null) {
            fail("python3-libnbd (nbdsh) is not installed; .ci/run installs it");
        }
        assumeTrue(present, "python3-libnbd (nbdsh) is not installed");
    }

    /**
     * Runs nbdsh connected to {@code uri} (with {@code base:allocation} requested), executing {@code commands} (Python
     * statements, in order, with the handle {@code h}), in {@code dir}.
     */
    public static ExternalTools.Result run(Path dir, String uri, String... commands)
            throws IOException, InterruptedException {
        require();
        List<String> command = new ArrayList<>(List.of(PYTHON, "-m", "nbd", "--base-allocation", "-u", uri));
        for (String c : commands) {
            command.add("-c");
            command.add(c);
        }
        return ExternalTools.run(dir, command.toArray(String[]::new));
    }

    /**
     * Runs the byte-granular checks ({@code nbd_bytes.py} beside this class: one-byte and odd-offset reads and writes,
     * write-zeroes and trim of partial sectors, cache and block status at odd offsets, and unaligned writes from two
     * connections at once) against a writable export of at least 1 MiB, whose first MiB and a few bytes at its end
     * they overwrite. {@code expectMinimum} is the minimum block size the server must advertise, or null to accept
     * any. Fails the test with nbdsh's output when a check fails; returns that output.
     */
    public static String byteGranularChecks(Path dir, String uri, Integer expectMinimum)
            throws IOException, InterruptedException {
        Path script = dir.resolve(BYTE_CHECKS);
        try (InputStream in = Nbdsh.class.getResourceAsStream(BYTE_CHECKS)) {
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        String minimum = expectMinimum == null ? "None" : expectMinimum.toString();
        String out = run(dir, uri, "uri = " + pythonString(uri) + "; expect_minimum = " + minimum,
                "exec(open(" + pythonString(script.toString()) + ").read())").ok();
        assertTrue(out.contains("checks passed"), out);
        return out;
    }

    /**
     * Two nbdsh processes at once, each with all its one-byte writes in flight together, write alternate bytes of
     * {@code [offset, offset + span)}: byte {@code offset + i} gets {@link #alternateByte alternateByte(i)}, the even
     * ones from one process and the odd ones from the other. Fails the test unless both succeed.
     */
    public static void writeAlternateBytesFromTwoProcesses(Path dir, String uri, long offset, int span)
            throws Exception {
        require();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<ExternalTools.Result>> runs = List.of(0, 1).stream().map(parity -> pool.submit(() ->
                    run(dir, uri, """
                            for i in range(%d, %d, 2):
                                h.aio_pwrite(bytes([i %% 251 + 1]), %d + i)
                            while h.aio_in_flight() > 0:
                                h.poll(-1)
                            h.flush()
                            print("done")
                            """.formatted(parity, span, offset)))).toList();
            for (Future<ExternalTools.Result> r : runs) {
                assertTrue(r.get(120, TimeUnit.SECONDS).ok().contains("done"));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The byte {@link #writeAlternateBytesFromTwoProcesses} writes {@code i} bytes after its offset. */
    public static byte alternateByte(int i) {
        return (byte) (i % 251 + 1);
    }

    /** {@code s} as a Python string literal. */
    public static String pythonString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
