package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Azurite Blob service (the Azure Storage emulator) on a free loopback port, for the blob backend's tests, and
 * fixture operations on it (containers, page and block blobs, SAS tokens, leases by another client) done with the
 * Azure SDK for JavaScript, independently of diskhost's own REST client.
 *
 * <p>Azurite and {@code @azure/storage-blob} are npm packages pinned in {@code testkit/azurite/package-lock.json};
 * {@code .ci/run} installs them into {@value #DEFAULT_INSTALL} (developers run the same lines). Another folder can be
 * named with the system property {@code diskhost.azurite} or the environment variable {@code DISKHOST_AZURITE}.
 * Where the install or node is missing, the test is skipped, except under {@code CI=true}, where it fails (see
 * {@link ExternalTools}); an installed Azurite that does not start fails the test everywhere.
 *
 * <p>Azurite runs with its data under the given folder, {@code --loose} and telemetry off; {@link #close()} stops it.
 */
public final class Azurite implements AutoCloseable {
    /** The emulator's well-known account. */
    public static final String ACCOUNT = "devstoreaccount1";
    /** The emulator's published, well-known key of {@link #ACCOUNT} (not a secret). */
    public static final String KEY =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    public static final String DEFAULT_INSTALL = "/opt/diskhost/azurite";

    private final Path install;
    private final Path dir;
    private final Process process;
    private final int port;
    private final Path script;

    private Azurite(Path install, Path dir, Process process, int port, Path script) {
        this.install = install;
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.script = script;
    }

    /** The install folder: the one named by {@code diskhost.azurite} or {@code DISKHOST_AZURITE}, or the default. */
    public static Path install() {
        String named = System.getProperty("diskhost.azurite", System.getenv("DISKHOST_AZURITE"));
        return Path.of(named == null || named.isBlank() ? DEFAULT_INSTALL : named);
    }

    /** Starts Azurite with its data and logs in {@code dir}; skips or fails the test (see above) when it cannot. */
    public static Azurite start(Path dir) throws IOException, InterruptedException {
        ExternalTools.require("node");
        Path install = install();
        Path bin = install.resolve("node_modules/.bin/azurite-blob");
        boolean present = Files.isExecutable(bin) && Files.isDirectory(install.resolve("node_modules/@azure/storage-blob"));
        if (!present && System.getenv("CI") != null) {
            fail("Azurite is not installed in " + install + "; .ci/run installs it");
        }
        assumeTrue(present, "Azurite is not installed in " + install + " (see .ci/run)");
        Path script = dir.resolve("azurite-fixture.js");
        try (InputStream in = Azurite.class.getResourceAsStream("azurite-fixture.js")) {
            Files.copy(in, script);
        }
        String failures = "";
        // A free port can be taken between choosing it and Azurite binding it: try a few.
        for (int attempt = 1; attempt <= 3; attempt++) {
            int port = freePort();
            Path data = Files.createDirectories(dir.resolve("azurite-" + port));
            Path log = data.resolve("azurite.log");
            // Run from the install folder: Azurite's bin resolves its modules relative to it.
            Process p = new ProcessBuilder(bin.toString(), "--blobHost", "127.0.0.1", "--blobPort",
                    Integer.toString(port), "--location", data.toString(), "--silent", "--loose", "--disableTelemetry")
                    .directory(install.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (awaitListening(p, port)) {
                return new Azurite(install, dir, p, port, script);
            }
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            failures += "\nattempt " + attempt + " on port " + port + ": " + Files.readString(log);
        }
        return fail("Azurite did not start:" + failures);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean awaitListening(Process p, int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.isAlive() && System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        return false;
    }

    public int port() {
        return port;
    }

    /** The Blob service endpoint of {@link #ACCOUNT}, path style: {@code http://127.0.0.1:PORT/devstoreaccount1}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port + "/" + ACCOUNT);
    }

    /** The URL of a blob (without a SAS token). */
    public URI blob(String container, String blob) {
        return URI.create(endpoint() + "/" + container + "/" + blob);
    }

    public void createContainer(String container) throws IOException, InterruptedException {
        sdk("container", container);
    }

    /** A new page blob of {@code size} bytes (a multiple of 512), all holes. */
    public void createPageBlob(String container, String blob, long size) throws IOException, InterruptedException {
        sdk("page-blob", container, blob, Long.toString(size));
    }

    /** Writes {@code data} (512-byte multiples) at {@code offset} of a page blob. */
    public void putPages(String container, String blob, long offset, byte[] data)
            throws IOException, InterruptedException {
        Path file = Files.createTempFile(dir, "pages", ".bin");
        Files.write(file, data);
        sdk("put-pages", container, blob, Long.toString(offset), file.toString());
        Files.delete(file);
    }

    /** Uploads {@code file} as a block blob. */
    public void uploadBlockBlob(String container, String blob, Path file) throws IOException, InterruptedException {
        sdk("block-blob", container, blob, file.toString());
    }

    /** {@code count} bytes of a blob from {@code offset}, as the SDK reads them. */
    public byte[] read(String container, String blob, long offset, long count)
            throws IOException, InterruptedException {
        Path file = Files.createTempFile(dir, "download", ".bin");
        sdk("download", container, blob, file.toString(), Long.toString(offset), Long.toString(count));
        byte[] data = Files.readAllBytes(file);
        Files.delete(file);
        return data;
    }

    /** The page ranges of a page blob within the byte range, as {@code {start, endInclusive}} pairs. */
    public List<long[]> pageRanges(String container, String blob, long offset, long count)
            throws IOException, InterruptedException {
        List<long[]> ranges = new ArrayList<>();
        for (String line : sdk("page-ranges", container, blob, Long.toString(offset), Long.toString(count)).lines()
                .toList()) {
            String[] f = line.trim().split(" ");
            ranges.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])});
        }
        return ranges;
    }

    /** Changes a page blob's length (Set Blob Properties), as another client would. */
    public void resize(String container, String blob, long size) throws IOException, InterruptedException {
        sdk("resize", container, blob, Long.toString(size));
    }

    /** Length, ETag, blob type and lease state, separated by spaces. */
    public String properties(String container, String blob) throws IOException, InterruptedException {
        return sdk("properties", container, blob).strip();
    }

    /** Acquires a lease as another writer would; returns its id. {@code seconds} -1 is an infinite lease. */
    public String acquireLease(String container, String blob, int seconds) throws IOException, InterruptedException {
        return sdk("lease", container, blob, Integer.toString(seconds)).strip();
    }

    /** Breaks the blob's lease at once. */
    public void breakLease(String container, String blob) throws IOException, InterruptedException {
        sdk("break-lease", container, blob);
    }

    /** A blob SAS query string (without "?") with {@code permissions} (such as "r" or "rw"), valid for minutes. */
    public String sas(String container, String blob, String permissions, int minutes)
            throws IOException, InterruptedException {
        return sdk("sas", container, blob, permissions, Integer.toString(minutes)).strip();
    }

    private String sdk(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", script.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "sdk", ".out");
        ProcessBuilder pb = new ProcessBuilder(command).directory(install.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("NODE_PATH", install.resolve("node_modules").toString());
        pb.environment().put("AZURITE_BLOB_URL", endpoint().toString());
        pb.environment().put("AZURITE_ACCOUNT", ACCOUNT);
        pb.environment().put("AZURITE_KEY", KEY);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("azurite-fixture " + String.join(" ", args) + " did not finish in 60 s");
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        Files.delete(out);
        if (p.exitValue() != 0) {
            fail("azurite-fixture " + String.join(" ", args) + " failed:\n" + output);
        }
        return output;
    }

    /** Stops Azurite. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
