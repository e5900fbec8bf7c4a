package org.diskhost.backend.blob.azure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.diskhost.testkit.Azurite;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/** The Azure REST calls against a real Azurite, with blobs made and checked by the Azure SDK (testkit's fixture). */
class AzureBlobAzuriteTest {
    static final String DISK = "blob disk 'test'";
    static final String C = "disks";
    static final long GIB = 1L << 30;

    @TempDir
    static Path dir;
    static Azurite azurite;
    static HttpClient http;
    static ScheduledExecutorService scheduler;

    @BeforeAll
    static void start() throws Exception {
        azurite = Azurite.start(dir);
        azurite.createContainer(C);
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stop() throws Exception {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (http != null) {
            http.close();
        }
        if (azurite != null) {
            azurite.close();
        }
    }

    static AzureSigner sharedKey(String key) {
        return new AzureSigner(Optional.of(SharedKey.of(Azurite.ACCOUNT, key)));
    }

    static AzureBlob blob(URI uri, AzureSigner signer, AzureBlob.Transport transport) {
        return new AzureBlob(DISK, uri, uri.getPath(), transport, signer.key().isPresent(), Optional.empty());
    }

    static AzureBlob blob(String name, AzureSigner signer) {
        return blob(azurite.blob(C, name), signer, AzureBlob.Transport.direct(http, signer, Duration.ofSeconds(30)));
    }

    static AzureBlob blob(String name) {
        return blob(name, sharedKey(Azurite.KEY));
    }

    /** A ranged GET signed as the blob disk's reads are: the signer sees the final headers, Range included. */
    static HttpResponse<byte[]> get(URI uri, AzureSigner signer, long offset, int length) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Range", AzureBlob.range(offset, length));
        signer.complete("GET", uri, headers, 0);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET();
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String name(TestInfo info) {
        return info.getTestMethod().orElseThrow().getName().toLowerCase();
    }

    static AzureException failure(CompletableFuture<?> f) {
        var e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        return assertInstanceOf(AzureException.class, e.getCause());
    }

    @Test
    void sharedKeyAndSasReads(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 1 << 20);
        byte[] data = random(8192, 1);
        azurite.putPages(C, b, 4096, data);

        HttpResponse<byte[]> r = get(azurite.blob(C, b), sharedKey(Azurite.KEY), 4096 + 100, 5000);
        assertEquals(206, r.statusCode());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 100, 5100), r.body());

        URI sas = URI.create(azurite.blob(C, b) + "?" + azurite.sas(C, b, "r", 10));
        AzureSigner noKey = new AzureSigner(Optional.empty());
        r = get(sas, noKey, 4096, 8192);
        assertEquals(206, r.statusCode());
        assertArrayEquals(data, r.body());
        assertEquals(206, get(sas, noKey, 0, 512).statusCode());

        // Without the token, the same read is refused; a SAS that only reads cannot write, and says so without the
        // token in the message.
        assertEquals(403, get(azurite.blob(C, b), noKey, 0, 512).statusCode());
        AzureBlob viaSas = blob(sas, noKey, AzureBlob.Transport.direct(http, noKey, Duration.ofSeconds(30)));
        AzureException e = failure(viaSas.putPages(0, new byte[512], 0, 512, Optional.empty()));
        assertEquals(403, e.status());
        String sig = sas.getRawQuery().replaceAll(".*sig=([^&]*).*", "$1");
        assertFalse(e.getMessage().contains(sig), e.getMessage());
        assertTrue(e.getMessage().startsWith(DISK + ": Put Page bytes=0-511 of "), e.getMessage());
        assertFalse(viaSas.toString().contains(sig), viaSas.toString());
    }

    @Test
    void wrongKeyIsAClearErrorWithoutTheKey(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 4096);
        // A well-formed key of the right length that is not the account's.
        String wrong = java.util.Base64.getEncoder().encodeToString(random(64, 2));
        List<String> logged = Collections.synchronizedList(new ArrayList<>());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(String.valueOf(record.getMessage()) + record.getThrown());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(out, true));
        try {
            AzureBlob blob = blob(b, sharedKey(wrong));
            AzureException e = failure(blob.properties());
            assertEquals(403, e.status());
            assertTrue(e.getMessage().startsWith(DISK + ": Get Blob Properties of " + azurite.blob(C, b).getPath()
                    + " failed: HTTP 403"), e.getMessage());
            assertTrue(e.getMessage().contains("check the account name and key"), e.getMessage());
            AzureException p = failure(blob.pageRanges(0, 4096));
            e.printStackTrace();
            p.printStackTrace();
            System.out.println(blob);
            for (String text : List.of(e.getMessage(), p.getMessage(), blob.toString(), out.toString(),
                    String.join("\n", logged))) {
                assertFalse(text.contains(wrong), text);
                assertFalse(text.contains(wrong.substring(0, 12)), text);
                assertFalse(text.contains(Azurite.KEY.substring(0, 12)), text);
            }
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            root.removeHandler(capture);
        }
    }

    @Test
    void getPageRangesOnASparsePageBlob(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 16 << 20);
        azurite.putPages(C, b, 0, random(1024, 3));
        azurite.putPages(C, b, 1 << 20, random(4096, 4));
        azurite.putPages(C, b, (1 << 20) + 4096, random(512, 5)); // adjacent: one range
        azurite.putPages(C, b, (16 << 20) - 512, random(512, 6));
        AzureBlob blob = blob(b);

        assertEquals(List.of(new AzureBlob.PageRange(0, 1024), new AzureBlob.PageRange(1 << 20, 4608),
                new AzureBlob.PageRange((16 << 20) - 512, 512)), blob.pageRanges(0, 16 << 20).get());
        // A sub-range: clipped to it, as the SDK also sees it.
        assertEquals(List.of(new AzureBlob.PageRange(512, 512), new AzureBlob.PageRange(1 << 20, 1024)),
                blob.pageRanges(512, (1 << 20) + 512).get());
        assertEquals(List.of(), blob.pageRanges(2 << 20, 4 << 20).get());
        // The service may list touching ranges apart (Azurite does); the disk merges them.
        assertEquals(List.of("0-1023", (1 << 20) + "-" + ((1 << 20) + 4095), ((1 << 20) + 4096) + "-"
                + ((1 << 20) + 4607), ((16 << 20) - 512) + "-" + ((16 << 20) - 1)),
                azurite.pageRanges(C, b, 0, 16 << 20).stream().map(r -> r[0] + "-" + r[1]).toList());

        AzureBlob.Properties props = blob.properties().get();
        assertEquals(16 << 20, props.length());
        assertEquals(AzureBlob.BlobType.PAGE, props.type());
        assertEquals("available", props.leaseState());
        assertFalse(props.etag().isEmpty());
    }

    @Test
    void putPageSplitsAt4MiBAndChecksAlignment(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 16 << 20);
        List<Long> bodies = Collections.synchronizedList(new ArrayList<>());
        AzureSigner signer = sharedKey(Azurite.KEY);
        AzureBlob.Transport direct = AzureBlob.Transport.direct(http, signer, Duration.ofSeconds(30));
        AzureBlob blob = blob(azurite.blob(C, b), signer, (what, method, uri, headers, contentLength, body) -> {
            bodies.add(contentLength);
            return direct.send(what, method, uri, headers, contentLength, body);
        });
        int length = (9 << 20) + 1024;
        byte[] data = random(length + 512, 7);
        blob.putPages(2048, data, 512, length, Optional.empty()).get();
        assertEquals(List.of(4L << 20, 4L << 20, (1L << 20) + 1024), bodies.stream().sorted((x, y) -> -x.compareTo(y))
                .toList());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 512, 512 + length), azurite.read(C, b, 2048, length));
        assertEquals(List.of(new AzureBlob.PageRange(2048, length)), blob.pageRanges(0, 16 << 20).get());

        bodies.clear();
        for (long[] bad : new long[][] {{100, 512}, {512, 1000}, {-512, 512}}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> blob.putPages(bad[0], data, 0, (int) bad[1], Optional.empty()));
            assertTrue(e.getMessage().contains("512-byte aligned"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> blob.clearPages(bad[0], bad[1], Optional.empty()));
        }
        assertEquals(List.of(), bodies);
    }

    @Test
    void clearMakesHolesThatReadAsZeros(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 8 << 20);
        azurite.putPages(C, b, 0, random(8 << 20, 8));
        AzureBlob blob = blob(b);
        blob.clearPages(4096, (5 << 20) - 4096, Optional.empty()).get();
        assertEquals(List.of(new AzureBlob.PageRange(0, 4096), new AzureBlob.PageRange(5 << 20, 3 << 20)),
                blob.pageRanges(0, 8 << 20).get());
        assertArrayEquals(new byte[8192], azurite.read(C, b, 1 << 20, 8192));
    }

    @Test
    void leaseKeepsASecondWriterOutAndIsReleasedAtClose(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 1 << 20);
        AzureBlob blob = blob(b);
        Lease lease = Lease.acquire(blob, DISK, 15, scheduler).get();
        try {
            assertTrue(azurite.properties(C, b).endsWith(" leased"), azurite.properties(C, b));
            // A second writer (another disk on the same blob) is refused with a message naming it.
            AzureSigner signer = sharedKey(Azurite.KEY);
            AzureBlob other = new AzureBlob("blob disk 'other'", azurite.blob(C, b), b, AzureBlob.Transport.direct(
                    http, signer, Duration.ofSeconds(30)), true, Optional.empty());
            AzureException e = failure(Lease.acquire(other, "blob disk 'other'", 15, scheduler));
            assertEquals(409, e.status());
            assertEquals(Optional.of("LeaseAlreadyPresent"), e.errorCode());
            assertTrue(e.getMessage().startsWith("blob disk 'other': Lease Blob (acquire) of "), e.getMessage());
            assertTrue(e.getMessage().contains("another writer holds a lease"), e.getMessage());
            // Writes without the lease id are refused; with it they go through.
            AzureException w = failure(other.putPages(0, new byte[512], 0, 512, Optional.empty()));
            assertEquals(412, w.status());
            assertTrue(w.getMessage().contains("leased by another writer"), w.getMessage());
            blob.putPages(0, random(512, 9), 0, 512, Optional.of(lease.id())).get();
            blob.clearPages(0, 512, Optional.of(lease.id())).get();

            // Renewed in the background: still ours after the 15 s it was taken for.
            Thread.sleep(17_000);
            assertEquals(Optional.empty(), lease.lost());
            blob.putPages(512, random(512, 10), 0, 512, Optional.of(lease.id())).get();
            assertTrue(azurite.properties(C, b).endsWith(" leased"), azurite.properties(C, b));
        } finally {
            lease.close();
        }
        assertTrue(azurite.properties(C, b).endsWith(" available"), azurite.properties(C, b));
        blob.putPages(0, random(512, 11), 0, 512, Optional.empty()).get();
    }

    @Test
    void aBrokenLeaseIsLost(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 1 << 20);
        AzureBlob blob = blob(b);
        try (Lease lease = Lease.acquire(blob, DISK, 15, scheduler).get()) {
            azurite.breakLease(C, b);
            azurite.acquireLease(C, b, 60);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (lease.lost().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            IOException lost = lease.lost().orElseThrow();
            assertTrue(lost.getMessage().startsWith(DISK + ": the lease was lost"), lost.getMessage());
        }
    }

    @Test
    void rangesBeyond4GiBOnASparsePageBlob(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 8 * GIB);
        long at = 5 * GIB + 4096;
        byte[] data = random(8192, 12);
        azurite.putPages(C, b, at, data);
        AzureBlob blob = blob(b);

        HttpResponse<byte[]> r = get(azurite.blob(C, b), sharedKey(Azurite.KEY), at + 512, 4096);
        assertEquals(206, r.statusCode());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 512, 4608), r.body());
        assertEquals(List.of(new AzureBlob.PageRange(at, 8192)), blob.pageRanges(4 * GIB, 4 * GIB).get());

        byte[] more = random(1 << 20, 13);
        blob.putPages(7 * GIB, more, 0, more.length, Optional.empty()).get();
        assertArrayEquals(more, azurite.read(C, b, 7 * GIB, more.length));
        blob.clearPages(at, 4096, Optional.empty()).get();
        assertEquals(List.of(new AzureBlob.PageRange(at + 4096, 4096), new AzureBlob.PageRange(7 * GIB, 1 << 20)),
                blob.pageRanges(0, 8 * GIB).get());
    }

    @Test
    void lengthPollerSeesAResizeByAnotherClient(TestInfo info) throws Exception {
        String b = name(info);
        azurite.createPageBlob(C, b, 1 << 20);
        CompletableFuture<Long> changed = new CompletableFuture<>();
        try (LengthPoller poller = new LengthPoller(blob(b), DISK, 1 << 20, Duration.ofMillis(200), scheduler,
                changed::complete)) {
            Thread.sleep(1000);
            assertFalse(changed.isDone());
            azurite.resize(C, b, 2 << 20);
            assertEquals(2L << 20, changed.get(10, TimeUnit.SECONDS));
            assertEquals(2L << 20, poller.length());
        }
    }

    @Test
    void missingBlobIs404NamingTheDisk() throws Exception {
        AzureException e = failure(blob("no-such-blob").properties());
        assertEquals(404, e.status());
        assertTrue(e.getMessage().startsWith(DISK + ": Get Blob Properties of "), e.getMessage());
        assertTrue(e.getMessage().contains("no such blob or container"), e.getMessage());
    }
}
