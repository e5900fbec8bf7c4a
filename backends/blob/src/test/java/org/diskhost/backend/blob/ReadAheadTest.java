package org.diskhost.backend.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.diskhost.api.buffers.RequestBuffers;
import org.junit.jupiter.api.Test;

/**
 * The readahead's own logic against a blob held in memory whose fetches are recorded (and, where a test says so,
 * held back): which reads reach the server, what they get, and how much memory the blocks take.
 */
class ReadAheadTest {
    static final int BLOCK = 64 << 10;
    static final int SIZE = 4 << 20;

    /** A blob in memory: fetches are recorded, and complete at once or when {@link #release()} says. */
    static final class Server implements ReadAhead.Fetch {
        final byte[] blob = new byte[SIZE];
        final ConcurrentLinkedQueue<long[]> fetches = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Runnable> held = new ConcurrentLinkedQueue<>();
        volatile boolean hold;
        final AtomicLong largestFetch = new AtomicLong();

        Server(long seed) {
            new Random(seed).nextBytes(blob);
        }

        @Override
        public CompletableFuture<Void> read(long offset, long length, RequestBuffers into) {
            fetches.add(new long[] {offset, length});
            largestFetch.accumulateAndGet(length, Math::max);
            CompletableFuture<Void> done = new CompletableFuture<>();
            // The bytes as they are when the request arrives, even if the answer comes later.
            byte[] answerBytes = Arrays.copyOfRange(blob, (int) offset, (int) (offset + length));
            Runnable answer = () -> {
                into.writer().write(MemorySegment.ofArray(answerBytes));
                done.complete(null);
            };
            if (hold) {
                held.add(answer);
            } else {
                answer.run();
            }
            return done;
        }

        void release() {
            hold = false;
            for (Runnable r; (r = held.poll()) != null;) {
                r.run();
            }
        }

        /** Fetches that touched {@code offset..+length}. */
        long fetchesOf(long offset, long length) {
            return fetches.stream().filter(f -> f[0] < offset + length && offset < f[0] + f[1]).count();
        }
    }

    static byte[] read(ReadAhead r, long offset, int length) {
        byte[] into = new byte[length];
        r.read(offset, length, RequestBuffers.of(MemorySegment.ofArray(into), true)).join();
        return into;
    }

    static ReadAhead readAhead(Server server, long window, long capacity) {
        return new ReadAhead(window, BLOCK, capacity, () -> SIZE, server);
    }

    @Test
    void aSequentialReaderIsServedFromBlocksFetchedAhead() {
        Server server = new Server(1);
        ReadAhead r = readAhead(server, 256 << 10, 512 << 10);
        for (int at = 0; at < 1 << 20; at += 16 << 10) {
            assertArrayEquals(Arrays.copyOfRange(server.blob, at, at + (16 << 10)), read(r, at, 16 << 10), "at " + at);
        }
        // The first read went alone; then whole blocks, each fetched once.
        assertEquals(16 << 10, server.fetches.peek()[1]);
        for (long block = 0; block < 1 << 20; block += BLOCK) {
            assertTrue(server.fetchesOf(block, BLOCK) <= 2, "block " + block + " fetched too often");
        }
        assertTrue(server.fetches.size() < 1 + 2 * (1 << 20) / BLOCK, server.fetches.size() + " fetches");
        assertEquals(BLOCK, server.largestFetch.get());
        // The next window is there before it is asked for.
        long before = server.fetches.size();
        read(r, 1 << 20, 16 << 10);
        assertEquals(before + 1, server.fetches.size(), "one more block ahead, none for the read itself");
    }

    @Test
    void randomReadsGoStraightToTheServerAndFetchNothingMore() {
        Server server = new Server(2);
        ReadAhead r = readAhead(server, 256 << 10, 512 << 10);
        Random random = new Random(3);
        List<long[]> asked = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            long at = random.nextInt(SIZE / 4096 - 1) * 4096L;
            asked.add(new long[] {at, 4096});
            assertArrayEquals(Arrays.copyOfRange(server.blob, (int) at, (int) at + 4096), read(r, at, 4096));
        }
        assertEquals(200, server.fetches.size());
        assertTrue(server.fetches.stream().allMatch(f -> f[1] == 4096), "only what was asked for");
        assertEquals(0, r.held());
    }

    @Test
    void aReadOfBlocksAlreadyFetchedIsAHit() {
        Server server = new Server(4);
        ReadAhead r = readAhead(server, 256 << 10, 512 << 10);
        read(r, 0, 4096);
        read(r, 4096, 4096); // sequential now: blocks 0..320 KiB are fetched
        long before = server.fetches.size();
        // A read elsewhere in the fetched range, not in the stream: served from memory.
        assertArrayEquals(Arrays.copyOfRange(server.blob, 200 << 10, (200 << 10) + 8192), read(r, 200 << 10, 8192));
        assertEquals(before, server.fetches.size());
    }

    @Test
    void invalidateDropsBlocksAndThoseOnTheirWayAreNeverServed() {
        Server server = new Server(5);
        ReadAhead r = readAhead(server, 256 << 10, 512 << 10);
        read(r, 0, 4096);
        server.hold = true;
        byte[] into = new byte[4096];
        CompletableFuture<Void> waiting = r.read(4096, 4096, RequestBuffers.of(MemorySegment.ofArray(into), true));
        // A write lands while the block is on its way, after the server read it: the block holds the old bytes.
        server.blob[5000] ^= 1;
        r.invalidate();
        assertEquals(0, r.held());
        server.release();
        waiting.join();
        assertArrayEquals(Arrays.copyOfRange(server.blob, 4096, 8192), into);
        // Blocks fetched before a write are gone after it.
        read(r, 8192, 4096);
        read(r, 12288, 4096);
        server.blob[100 << 10] ^= 1;
        r.invalidate();
        assertArrayEquals(Arrays.copyOfRange(server.blob, 100 << 10, (100 << 10) + 512), read(r, 100 << 10, 512));
    }

    @Test
    void blocksNeverTakeMoreThanTheCapacityEvenWhenTheServerIsSlow() {
        Server server = new Server(6);
        long capacity = 4 * BLOCK;
        ReadAhead r = readAhead(server, 16 * BLOCK, capacity);
        read(r, 0, 4096);
        server.hold = true;
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        List<byte[]> buffers = new ArrayList<>();
        for (int at = 4096; at < 8 * BLOCK; at += 4096) {
            byte[] into = new byte[4096];
            buffers.add(into);
            reads.add(r.read(at, 4096, RequestBuffers.of(MemorySegment.ofArray(into), true)));
            assertTrue(r.held() <= capacity, r.held() + " bytes held");
        }
        server.release();
        for (int i = 0; i < reads.size(); i++) {
            reads.get(i).join();
            int at = 4096 * (i + 1);
            assertArrayEquals(Arrays.copyOfRange(server.blob, at, at + 4096), buffers.get(i), "at " + at);
        }
        for (int at = 8 * BLOCK; at < SIZE; at += 32 << 10) {
            read(r, at, 32 << 10);
            assertTrue(r.held() <= capacity, r.held() + " bytes held");
        }
    }

    @Test
    void concurrentReadersOfSeveralStreamsGetTheirBytes() throws Exception {
        Server server = new Server(7);
        ReadAhead r = readAhead(server, 4 * BLOCK, 8 * BLOCK);
        int streams = ReadAhead.STREAMS;
        int part = SIZE / streams;
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        try {
            List<CompletableFuture<Void>> readers = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                int start = s * part;
                readers.add(CompletableFuture.runAsync(() -> {
                    for (int at = start; at < start + part; at += 12288) {
                        int n = Math.min(12288, start + part - at);
                        byte[] got = read(r, at, n);
                        if (!Arrays.equals(Arrays.copyOfRange(server.blob, at, at + n), got)) {
                            throw new AssertionError("wrong bytes at " + at);
                        }
                        if (r.held() > 8 * BLOCK) {
                            throw new AssertionError(r.held() + " bytes held");
                        }
                    }
                }, pool));
            }
            CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertTrue(server.fetches.size() < SIZE / 12288, server.fetches.size() + " fetches: the streams were not seen");
    }
}
