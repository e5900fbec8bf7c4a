package org.diskhost.backend.delay;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real time on a live disk over a file: a changed delay takes effect on the next request, and many delayed requests
 * wait together rather than one after another (no thread is held while waiting). Only lower bounds are tight; upper
 * bounds are generous, so a loaded machine does not fail the test.
 */
class LiveDelayTimingTest {
    private static final long MS = 1_000_000;

    @TempDir
    Path dir;

    private static long millisToRead(Disk disk) {
        long start = System.nanoTime();
        succeeds(disk.readVectored(RequestBuffers.of(allocate(4096), true), 8));
        return (System.nanoTime() - start) / MS;
    }

    private static Hashtable<String, Object> change(String read) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("readDelay", read);
        return p;
    }

    @Test
    void aChangedDelayTakesEffectOnTheLiveDisk() throws Exception {
        DelayComponent component = new DelayComponent();
        StandaloneResolution resolution = StandaloneResolution.of(dir, new FileDiskResolver(), component);
        try (ResolvedChain chain = resolution.resolve("timed", Map.of("kind", "delay", "readDelay", "0",
                "disk", Map.of("kind", "file", "path", "timed.img", "create", "1 MiB")), false).join()) {
            Disk disk = chain.disk();
            millisToRead(disk); // warm up
            long undelayed = millisToRead(disk);

            component.updated("org.diskhost.delay~timed", change("800ms"));
            long delayed = millisToRead(disk);
            assertTrue(delayed >= 800, "a read after the change waited " + delayed + " ms");

            component.updated("org.diskhost.delay~timed", change("50ms"));
            long shorter = millisToRead(disk);
            assertTrue(shorter >= 50 && shorter < 800, "then " + shorter + " ms");

            component.deleted("org.diskhost.delay~timed");
            long back = millisToRead(disk);
            assertTrue(back < 800, "back to the spec's 0: " + back + " ms (undelayed: " + undelayed + " ms)");
        }
    }

    @Test
    void manyDelayedRequestsWaitTogether() {
        StandaloneResolution resolution = StandaloneResolution.of(dir, new MemoryDiskResolver(),
                new DelayDiskResolver());
        try (ResolvedChain chain = resolution.resolve("many", Map.of("kind", "delay", "readDelay", "300ms",
                "disk", Map.of("kind", "memory")), false).join()) {
            Disk disk = chain.disk();
            long start = System.nanoTime();
            List<CompletableFuture<Void>> reads = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                reads.add(disk.readVectored(RequestBuffers.of(allocate(512), true), i % 64));
            }
            long issued = (System.nanoTime() - start) / MS;
            assertFalse(reads.getFirst().isDone(), "issuing returned before the delay passed");
            reads.forEach(r -> succeeds(r));
            long all = (System.nanoTime() - start) / MS;
            assertTrue(all >= 300, "waited " + all + " ms");
            // One after another they would take a minute; together, a little over one delay.
            assertTrue(all < 10_000, "200 reads of 300 ms took " + all + " ms (issued in " + issued + " ms)");
        }
    }
}
