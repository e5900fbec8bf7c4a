package org.diskhost.nativeio.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.diskhost.nativeio.libc.Libc;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ring under each set of setup flags it may get (the probe's fallbacks included, where this kernel has them):
 * with {@code DEFER_TASKRUN} completions are posted only while the ring thread waits, so the wake-up read, a
 * completion that submits the next operation, and closing with operations in flight must all still work.
 */
class UringSetupFlagsTest {
    @TempDir
    Path dir;

    /** The probe's sets of setup flags that this kernel accepts (each later set is a subset of an earlier one). */
    static IntStream accepted() {
        int granted = UringTests.available().setupFlags();
        return Arrays.stream(UringProbe.SETUP_FLAGS).filter(flags -> (flags & ~granted) == 0);
    }

    @Test
    void theProbeGrantsEveryFlagOnKernelsThatHaveThem() {
        UringSupport.Available uring = UringTests.available();
        assertTrue(Arrays.stream(UringProbe.SETUP_FLAGS).anyMatch(flags -> flags == uring.setupFlags()));
        assertTrue(uring.describe().contains("setup flags: " + UringLayouts.setupFlagNames(uring.setupFlags())),
                uring.describe());
        String[] release = uring.kernel().split("[.-]");
        int major = Integer.parseInt(release[0]);
        int minor = Integer.parseInt(release[1]);
        Assumptions.assumeTrue(major > 6 || major == 6 && minor >= 1, "DEFER_TASKRUN came with Linux 6.1");
        assertEquals(UringProbe.SETUP_FLAGS[0], uring.setupFlags());
        assertEquals("COOP_TASKRUN, SINGLE_ISSUER, DEFER_TASKRUN", UringLayouts.setupFlagNames(uring.setupFlags()));
    }

    @ParameterizedTest
    @MethodSource("accepted")
    void anIdleRingWakesForEachSubmission(int flags) throws Exception {
        try (Uring ring = new Uring("idle", 8, flags)) {
            assertTrue(ring.toString().endsWith("setup flags: " + UringLayouts.setupFlagNames(flags) + ")"),
                    ring.toString());
            for (int i = 0; i < 20; i++) {
                Thread.sleep(5); // long enough for the ring thread to block in io_uring_enter
                CompletableFuture<Integer> nop = new CompletableFuture<>();
                Thread.ofVirtual().start(() -> ring.nop().whenComplete((r, e) -> nop.complete(r)));
                assertEquals(0, nop.get(10, TimeUnit.SECONDS));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("accepted")
    void completionsThatSubmitKeepTheRingFull(int flags) throws Exception {
        // As a frontend does: each completion (on the ring thread) submits the next read, from 4 chains at once.
        Path file = dir.resolve("chains");
        int blocks = 256;
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            for (int b = 0; b < blocks; b++) {
                byte[] block = new byte[512];
                Arrays.fill(block, (byte) b);
                raf.write(block);
            }
        }
        int fd = Libc.open(file.toString(), Libc.O_RDONLY);
        try (Uring ring = new Uring("chains", 4, flags); Arena arena = Arena.ofShared()) {
            AtomicInteger wrong = new AtomicInteger();
            List<CompletableFuture<Void>> chains = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                chains.add(done);
                read(ring, fd, arena.allocate(512), c, 2000, wrong, done);
            }
            for (CompletableFuture<Void> chain : chains) {
                chain.get(30, TimeUnit.SECONDS);
            }
            assertEquals(0, wrong.get());
        } finally {
            Libc.close(fd);
        }
    }

    /** Reads block {@code n % 256} into {@code buffer}, checks it, and from its completion the next, {@code left} times. */
    private static void read(Uring ring, int fd, MemorySegment buffer, int n, int left, AtomicInteger wrong,
            CompletableFuture<Void> done) {
        if (left == 0) {
            done.complete(null);
            return;
        }
        int block = n % 256;
        ring.readv(fd, List.of(buffer), block * 512L).whenComplete((r, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            if (r != 512 || buffer.get(ValueLayout.JAVA_BYTE, 511) != (byte) block) {
                wrong.incrementAndGet();
            }
            read(ring, fd, buffer, n + 7, left - 1, wrong, done);
        });
    }

    @ParameterizedTest
    @MethodSource("accepted")
    void closeWaitsForWhatIsInFlight(int flags) throws IOException {
        Uring ring = new Uring("closing", 4, flags);
        List<CompletableFuture<Integer>> nops = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            nops.add(ring.nop());
        }
        ring.close();
        for (CompletableFuture<Integer> nop : nops) {
            assertEquals(0, nop.join());
        }
    }
}
