package org.diskhost.itests;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;

/**
 * Continuous verified I/O on a disk: writers that each own a range of 4 KiB blocks and rewrite them with ever newer
 * versions, and readers that check any block. Every block's content is a function of its number and version (both
 * stamped in its first 16 bytes), so a reader detects torn, misplaced and stale data: what it reads must be intact
 * and at least as new as the version committed before the read began.
 */
final class VerifiedLoad implements AutoCloseable {
    static final int BLOCK = 4096;

    private final Disk disk;
    private final long firstBlock;
    private final int blocksPerWriter;
    /** The version of each block whose write completed; 0 until written. */
    private final AtomicIntegerArray committed;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<CompletableFuture<Void>> workers = new ArrayList<>();

    /** Load on {@code writers × blocksPerWriter} blocks from {@code firstBlock} on, with {@code readers} readers. */
    VerifiedLoad(Disk disk, long firstBlock, int writers, int blocksPerWriter, int readers) {
        this.disk = disk;
        this.firstBlock = firstBlock;
        this.blocksPerWriter = blocksPerWriter;
        this.committed = new AtomicIntegerArray(writers * blocksPerWriter);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            workers.add(CompletableFuture.runAsync(() -> write(writer), VerifiedLoad::thread));
        }
        for (int r = 0; r < readers; r++) {
            workers.add(CompletableFuture.runAsync(this::read, VerifiedLoad::thread));
        }
    }

    private static void thread(Runnable r) {
        Thread t = new Thread(r, "verified-load");
        t.setDaemon(true);
        t.start();
    }

    private void write(int writer) {
        MemorySegment buffer = Arena.ofAuto().allocate(BLOCK, BLOCK);
        int version = 0;
        while (!stop.get()) {
            version++;
            for (int i = 0; i < blocksPerWriter && !stop.get(); i++) {
                int block = writer * blocksPerWriter + i;
                fill(buffer, block, version);
                try {
                    disk.writeVectored(RequestBuffers.of(buffer, false), sector(block), false)
                            .get(60, TimeUnit.SECONDS);
                    committed.set(block, version);
                    writes.incrementAndGet();
                } catch (Exception e) {
                    fail("write of block " + block + " v" + version + " failed: " + e);
                }
            }
        }
    }

    private void read() {
        MemorySegment buffer = Arena.ofAuto().allocate(BLOCK, BLOCK);
        while (!stop.get()) {
            int block = ThreadLocalRandom.current().nextInt(committed.length());
            int atLeast = committed.get(block);
            if (atLeast == 0) {
                Thread.onSpinWait(); // never written: below a crypt disk it reads as noise, not zeros
                continue;
            }
            try {
                disk.readVectored(RequestBuffers.of(buffer, true), sector(block)).get(60, TimeUnit.SECONDS);
                reads.incrementAndGet();
                String problem = check(buffer, block, atLeast);
                if (problem != null) {
                    fail(problem);
                }
            } catch (Exception e) {
                fail("read of block " + block + " failed: " + e);
            }
        }
    }

    private long sector(int block) {
        return (firstBlock + block) * (BLOCK / disk.sectorSize());
    }

    /** The content of {@code block} at {@code version}: the stamp, then a sequence seeded by both. */
    static void fill(MemorySegment buffer, int block, int version) {
        buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, block);
        buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, version);
        long x = block * 0x9E3779B97F4A7C15L + version;
        for (int i = 16; i < BLOCK; i += 8) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            buffer.set(ValueLayout.JAVA_LONG_UNALIGNED, i, x);
        }
    }

    /** Null if {@code buffer} holds {@code block} intact at a version of at least {@code atLeast}; else why not. */
    static String check(MemorySegment buffer, int block, int atLeast) {
        long stampedBlock = buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        int version = (int) buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        if (stampedBlock != block) {
            return "block " + block + " holds block " + stampedBlock + "'s data";
        }
        if (version < atLeast) {
            return "block " + block + " is stale: version " + version + ", but " + atLeast + " was committed";
        }
        MemorySegment expected = Arena.ofAuto().allocate(BLOCK);
        fill(expected, block, version);
        if (expected.mismatch(buffer) >= 0) {
            return "block " + block + " version " + version + " is torn at byte " + expected.mismatch(buffer);
        }
        return null;
    }

    long writes() {
        return writes.get();
    }

    long reads() {
        return reads.get();
    }

    /** The first failures (at most 20 are kept, so a systematic fault does not flood the report). */
    List<String> failures() {
        synchronized (failures) {
            return List.copyOf(failures);
        }
    }

    private void fail(String problem) {
        synchronized (failures) {
            if (failures.size() < 20) {
                failures.add(problem);
            }
        }
    }

    /**
     * Checks every block once more against its final committed version.
     *
     * @return the problems found
     */
    List<String> verifyAll() throws Exception {
        List<String> problems = new ArrayList<>();
        MemorySegment buffer = Arena.ofAuto().allocate(BLOCK, BLOCK);
        for (int block = 0; block < committed.length(); block++) {
            if (committed.get(block) == 0) {
                continue;
            }
            disk.readVectored(RequestBuffers.of(buffer, true), sector(block)).get(60, TimeUnit.SECONDS);
            String problem = check(buffer, block, committed.get(block));
            int version = (int) buffer.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
            if (problem == null && version != committed.get(block)) {
                problem = "block " + block + " holds version " + version + ", not the last committed "
                        + committed.get(block);
            }
            if (problem != null) {
                problems.add(problem);
            }
        }
        return problems;
    }

    /** Stops the workers and waits for them. */
    @Override
    public void close() throws Exception {
        stop.set(true);
        CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
    }
}
