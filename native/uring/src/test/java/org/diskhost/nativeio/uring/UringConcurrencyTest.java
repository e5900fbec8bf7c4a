package org.diskhost.nativeio.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.diskhost.nativeio.libc.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many submitters on a small ring, and closing it under load. */
class UringConcurrencyTest {
    private static final int THREADS = 8;
    private static final int OPS = 2000;
    private static final int BLOCK = 1024;

    @TempDir
    Path dir;

    /** The content of block {@code b}: its number, then bytes that depend on it. */
    private static void fill(MemorySegment block, long b) {
        block.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, b);
        for (int i = 8; i < BLOCK; i++) {
            block.set(ValueLayout.JAVA_BYTE, i, (byte) (b * 31 + i));
        }
    }

    /** Runs {@code body(t)} on THREADS threads, half platform and half virtual, and waits for them. */
    private static void onThreads(ThrowingIntConsumer body) throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            Runnable run = () -> {
                try {
                    body.accept(id);
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(run) : Thread.ofVirtual().start(run));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError(failures.size() + " submitters failed");
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }

    @FunctionalInterface
    private interface ThrowingIntConsumer {
        void accept(int value) throws Exception;
    }

    @Test
    void eightSubmittersOnASixtyFourEntryRing() throws Exception {
        Path file = dir.resolve("concurrent");
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength((long) THREADS * OPS * BLOCK);
        }
        int fd = Libc.open(file.toString(), Libc.O_RDWR);
        try (Uring ring = UringTests.available().open("concurrent", 64); Arena arena = Arena.ofShared()) {
            assertEquals(63, ring.capacity());
            // Writes: each block in two halves, so that every op is vectored.
            onThreads(t -> {
                List<CompletableFuture<Integer>> writes = new ArrayList<>();
                for (int i = 0; i < OPS; i++) {
                    long b = (long) t * OPS + i;
                    MemorySegment block = arena.allocate(BLOCK);
                    fill(block, b);
                    writes.add(ring.writev(fd, List.of(block.asSlice(0, BLOCK / 2), block.asSlice(BLOCK / 2)),
                            b * BLOCK, false));
                }
                for (CompletableFuture<Integer> w : writes) {
                    assertEquals(BLOCK, w.get(60, TimeUnit.SECONDS));
                }
            });
            // The file as written, checked without the ring.
            byte[] onDisk = Files.readAllBytes(file);
            MemorySegment expected = arena.allocate(BLOCK);
            for (long b = 0; b < (long) THREADS * OPS; b++) {
                fill(expected, b);
                long mismatch = MemorySegment.mismatch(MemorySegment.ofArray(onDisk), b * BLOCK, (b + 1) * BLOCK,
                        expected, 0, BLOCK);
                assertEquals(-1, mismatch, "block " + b);
            }
            // Reads: every thread reads another thread's blocks back.
            onThreads(t -> {
                List<CompletableFuture<Integer>> reads = new ArrayList<>();
                List<MemorySegment> buffers = new ArrayList<>();
                int from = (t + 1) % THREADS;
                for (int i = 0; i < OPS; i++) {
                    MemorySegment block = arena.allocate(BLOCK);
                    buffers.add(block);
                    reads.add(ring.readv(fd, List.of(block), ((long) from * OPS + i) * BLOCK));
                }
                MemorySegment want = Arena.ofAuto().allocate(BLOCK);
                for (int i = 0; i < OPS; i++) {
                    assertEquals(BLOCK, reads.get(i).get(60, TimeUnit.SECONDS));
                    fill(want, (long) from * OPS + i);
                    assertEquals(-1, buffers.get(i).mismatch(want), "block " + ((long) from * OPS + i));
                }
            });
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void closeWaitsForOperationsInFlight() throws Exception {
        Path file = dir.resolve("closing");
        Files.createFile(file);
        int fd = Libc.open(file.toString(), Libc.O_RDWR);
        List<CompletableFuture<Integer>> ops = new ArrayList<>();
        Uring ring = UringTests.available().open("closing", 8);
        try (Arena arena = Arena.ofShared()) {
            for (int i = 0; i < 500; i++) {
                MemorySegment block = arena.allocate(4096);
                fill(block, i);
                ops.add(ring.writev(fd, List.of(block), i * 4096L, i % 50 == 0));
                if (i % 100 == 0) {
                    ops.add(ring.fsync(fd, true));
                }
            }
            ring.close(); // before the arena: close returns only when the kernel is done with every buffer
        }
        for (CompletableFuture<Integer> op : ops) {
            assertTrue(op.isDone());
            assertFalse(op.isCompletedExceptionally(), op::toString);
        }
        assertEquals(500 * 4096L, Files.size(file));
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("uring-closing")));

        var after = assertThrows(ExecutionException.class, () -> ring.nop().get(1, TimeUnit.SECONDS));
        IOException closed = assertInstanceOf(IOException.class, after.getCause());
        assertEquals("io_uring closing is closed", closed.getMessage());
        ring.close(); // again: nothing happens
        Libc.close(fd);
    }

    @Test
    void aRingIsOwnedByAPlatformThread() throws Exception {
        try (Uring ring = UringTests.available().open("owner", 4)) {
            Thread owner = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("uring-owner")).findFirst().orElseThrow();
            assertFalse(owner.isVirtual());
            assertTrue(owner.isDaemon());
            // Completions arrive on it: a stage chained before the result exists runs where the future completes
            // (a stage chained after runs on the caller, so of 1000 a few may; most cannot, a syscall is slower).
            List<Thread> ranOn = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread submitter = Thread.ofVirtual().start(() -> {
                List<CompletableFuture<Integer>> nops = new ArrayList<>();
                for (int i = 0; i < 1000; i++) {
                    CompletableFuture<Integer> nop = ring.nop();
                    nops.add(nop);
                    nop.whenComplete((r, e) -> ranOn.add(Thread.currentThread()));
                }
                nops.forEach(CompletableFuture::join);
            });
            submitter.join();
            assertEquals(1000, ranOn.size());
            assertTrue(ranOn.stream().allMatch(t -> t == owner || t == submitter), ranOn::toString);
            assertTrue(ranOn.stream().filter(t -> t == owner).count() > 500, "completions on the ring thread");
        }
    }
}
