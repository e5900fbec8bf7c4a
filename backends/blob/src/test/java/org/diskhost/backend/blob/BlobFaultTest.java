package org.diskhost.backend.blob;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.backend.blob.FaultServer.Fault;
import org.diskhost.testkit.DiskAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Blob disks against a server that misbehaves on purpose: retries, resumption, and exact errors. */
class BlobFaultTest {
    private static final int SIZE = 256 * 1024;

    private byte[] content;
    private FaultServer server;

    @BeforeEach
    void start() throws Exception {
        content = new byte[SIZE];
        new Random(3).nextBytes(content);
        server = new FaultServer(content);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private BlobDisks.Opened open(Object... pairs) {
        Map<String, Object> s = new HashMap<>(Map.of("url", server.url().toString(), "retryDelay", "10ms"));
        for (int i = 0; i < pairs.length; i += 2) {
            s.put((String) pairs[i], pairs[i + 1]);
        }
        return BlobDisks.opened(s);
    }

    /** The Io error's text of a 64 KiB read at sector 8. */
    private String ioError(Disk disk) {
        DiskError error = fails(disk.readVectored(RequestBuffers.of(DiskAssertions.allocate(65536), true), 8));
        assertTrue(error instanceof DiskError.Io, "" + error);
        String message = ((DiskError.Io) error).cause().getMessage();
        assertTrue(message.startsWith("GET bytes 4096-69631 of " + server.url() + ": "), message);
        return message;
    }

    private MemorySegment expected(long sector, long count) {
        return MemorySegment.ofArray(content).asSlice(sector * 512, count * 512);
    }

    @Test
    void aDroppedConnectionIsResumedFromTheFirstMissingByte() {
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.next(Fault.DROP_MID_BODY);
            assertSameBytes(expected(8, 128), read(disk, 8, 128), "after a drop");
            List<String> gets = server.log().stream().filter(l -> l.startsWith("GET")).toList();
            assertEquals(List.of("GET bytes=4096-69631", "GET bytes=36864-69631"), gets, "resumed half way");
            assertEquals(1L, InspectTree.of(disk).get("retries"));
        }
    }

    @Test
    void aServerThatKeepsDroppingFailsAfterTheRetries() {
        try (var opened = open("retries", 2)) {
            Disk disk = opened.disk();
            server.always(Fault.DROP_MID_BODY);
            String message = ioError(disk);
            assertTrue(message.contains("connection failed") && message.endsWith("(after 2 retries)"), message);
        }
    }

    @Test
    void unavailableWithRetryAfterIsHonoured() {
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.next(Fault.UNAVAILABLE_RETRY_AFTER_1S, Fault.UNAVAILABLE_RETRY_AFTER_1S);
            long start = System.nanoTime();
            assertSameBytes(expected(8, 128), read(disk, 8, 128), "after two 503s");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= 2000, "waited " + ms + " ms for two Retry-After: 1");
        }
    }

    @Test
    void aRetryAfterLongerThanTheMaximumDelayFailsAtOnce() {
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.next(Fault.UNAVAILABLE_RETRY_AFTER_1H);
            long start = System.nanoTime();
            String message = ioError(disk);
            assertTrue(message.contains("HTTP 503 (service unavailable), and the server asks to retry after 3600 s, "
                    + "longer than retryMaxDelay (10000 ms)"), message);
            assertTrue(System.nanoTime() - start < 5_000_000_000L);
        }
    }

    @Test
    void serverErrorsAreRetriedAFewTimes() {
        try (var opened = open("retries", 3)) {
            Disk disk = opened.disk();
            server.next(Fault.INTERNAL_ERROR, Fault.INTERNAL_ERROR, Fault.INTERNAL_ERROR);
            assertSameBytes(expected(8, 128), read(disk, 8, 128), "after three 500s");
            server.next(Fault.INTERNAL_ERROR, Fault.INTERNAL_ERROR, Fault.INTERNAL_ERROR, Fault.INTERNAL_ERROR);
            String message = ioError(disk);
            assertTrue(message.endsWith("HTTP 500 (internal server error) (after 3 retries)"), message);
        }
    }

    @Test
    void wrongAnswersAreExactErrors() {
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.next(Fault.IGNORE_RANGE);
            assertTrue(ioError(disk).endsWith("the server ignored Range: bytes 4096-69631 (200 with the whole blob "
                    + "instead of 206 Partial Content)"));
            server.next(Fault.SHORT_BODY);
            String shortBody = ioError(disk);
            assertTrue(shortBody.endsWith("unexpected end of the body: the server sent 32768 of 65536 bytes"),
                    shortBody);
            server.next(Fault.WRONG_RANGE);
            String wrong = ioError(disk);
            assertTrue(wrong.endsWith("the server sent 4608-70143 for Range: bytes 4096-69631"), wrong);
            server.next(Fault.LONG_BODY);
            String longBody = ioError(disk);
            assertTrue(longBody.endsWith("the server announces 65537 bytes (Content-Length) for a range of 65536"),
                    longBody);
            // None of this stopped the disk.
            assertSameBytes(expected(0, 512), read(disk, 0, 512), "afterwards");
        }
    }

    @Test
    void aStalledBodyTimesOutAndIsRetried() {
        try (var opened = open("requestTimeout", "500ms", "retries", 1)) {
            Disk disk = opened.disk();
            server.next(Fault.STALL);
            assertSameBytes(expected(8, 128), read(disk, 8, 128), "after a stall");
            server.next(Fault.STALL, Fault.STALL);
            String message = ioError(disk);
            assertTrue(message.endsWith("no complete answer within requestTimeout (500 ms) (after 1 retry)"),
                    message);
        }
    }

    @Test
    void aChangedOrShrunkBlobIsAnIoErrorNeverMixedData() {
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.replace(new byte[SIZE], false);
            assertTrue(ioError(disk).contains("the blob changed since the disk was opened (HTTP 412: If-Match \"v1\""));
        }
        server.sendEtag(false);
        try (var opened = open()) {
            Disk disk = opened.disk();
            server.replace(Arrays.copyOf(content, SIZE / 2), true);
            String message = ioError(disk);
            assertTrue(message.endsWith("the blob shrank from 262144 bytes at open to 131072"), message);
            String past = ((DiskError.Io) fails(disk.readVectored(RequestBuffers.of(DiskAssertions.allocate(512),
                    true), SIZE / 512 - 1))).cause().getMessage();
            assertTrue(past.endsWith("the blob shrank from 262144 bytes at open to 131072"), past);
        }
    }

    @Test
    void aRefusedHeadFallsBackToARangedGet() {
        server.refuseHead(true);
        try (var opened = open()) {
            Disk disk = opened.disk();
            assertEquals(SIZE / 512, disk.sectorCount());
            assertEquals(List.of("HEAD -", "GET bytes=0-0"), server.log());
            assertSameBytes(expected(0, 8), read(disk, 0, 8), "data");
        }
    }

    @Test
    void connectionsBoundTheRequestsAtTheServer() {
        server.responseDelay(5);
        try (var opened = open("connections", 3, "chunkSize", "4 KiB")) {
            Disk disk = opened.disk();
            List<CompletableFuture<Void>> reads = new ArrayList<>();
            List<MemorySegment> into = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                MemorySegment m = DiskAssertions.allocate(16384);
                into.add(m);
                reads.add(disk.readVectored(RequestBuffers.of(m, true), i * 4L));
            }
            reads.forEach(r -> succeeds(r));
            for (int i = 0; i < 64; i++) {
                assertSameBytes(expected(i * 4L, 32), into.get(i), "read " + i);
            }
            assertTrue(server.maxConcurrent() <= 3, "at most 3 at the server, saw " + server.maxConcurrent());
            assertTrue(server.maxConcurrent() >= 2, "parallel, saw " + server.maxConcurrent());
        }
    }
}
