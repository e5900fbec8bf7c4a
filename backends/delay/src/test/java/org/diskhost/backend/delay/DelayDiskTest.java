package org.diskhost.backend.delay;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Test;

/** What is delayed and by how much, with a timer the test controls. */
class DelayDiskTest {
    private static final Duration READ = Duration.ofMillis(30);
    private static final Duration WRITE = Duration.ofMillis(70);

    private final ManualTimer timer = new ManualTimer();
    private final LiveDelays live = new LiveDelays();
    private final MemoryDisk memory = MemoryDisk.builder(512, 64).capacity(128).build();
    private final DelayDisk delay = new DelayDisk(Disk.of(memory), "d", new Delays(READ, WRITE), timer, live);
    private final Disk disk = Disk.of(delay);

    private static RequestBuffers sectors(long count, boolean writable) {
        return RequestBuffers.of(allocate(count * 512), writable);
    }

    @Test
    void aReadWaitsForTheReadDelayBeforeItReachesTheDisk() {
        CompletableFuture<Void> r = disk.readVectored(sectors(1, true), 0);
        assertFalse(r.isDone());
        assertEquals(0, memory.requests(), "not sent on before the delay");
        assertEquals(List.of(READ), timer.asked());
        timer.elapseAll();
        succeeds(r);
        assertEquals(1, memory.requests());
    }

    @Test
    void aWriteWaitsForTheWriteDelay() {
        MemorySegment data = pattern(512, 1);
        CompletableFuture<Void> w = disk.writeVectored(RequestBuffers.of(data, false), 3, true);
        assertFalse(w.isDone());
        assertEquals(List.of(WRITE), timer.asked());
        timer.elapseAll();
        succeeds(w);
        assertSameBytes(data, memory.content().asSlice(3 * 512, 512), "the write landed after the delay");
    }

    @Test
    void everythingElsePassesThroughAtOnce() {
        succeeds(disk.syncCache());
        succeeds(disk.unmap(0, 8, false));
        assertTrue(disk.pr().isEmpty());
        assertEquals(64, disk.sectorCount());
        assertEquals(512, disk.sectorSize());
        assertTrue(disk.isFuaRespected());
        CompletableFuture<Long> resized = disk.waitResize(64);
        memory.resize(100);
        assertEquals(100L, succeeds(resized), "waitResize is forwarded");
        assertTrue(timer.asked().isEmpty(), "no delay was asked for");
    }

    @Test
    void ejectIsNotForwarded() {
        failsWith(DiskError.UnsupportedEject.class, disk.eject());
    }

    @Test
    void aZeroDelaySchedulesNothing() {
        delay.setDelays(Delays.NONE, "test");
        read(disk, 0, 1);
        succeeds(disk.writeVectored(sectors(1, false), 0, false));
        assertTrue(timer.asked().isEmpty());
    }

    @Test
    void aChangeAppliesToTheNextRequestsAndNotToWaitingOnes() {
        CompletableFuture<Void> before = disk.readVectored(sectors(1, true), 0);
        delay.setDelays(new Delays(Duration.ofSeconds(2), Duration.ZERO), "test");
        CompletableFuture<Void> after = disk.readVectored(sectors(1, true), 0);
        succeeds(disk.writeVectored(sectors(1, false), 0, false)); // write delay now 0
        assertEquals(List.of(READ, Duration.ofSeconds(2)), timer.asked());
        timer.elapseAll();
        succeeds(before);
        succeeds(after);
    }

    @Test
    void requestsAreDelayedIndependently() {
        List<CompletableFuture<Void>> reads = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            reads.add(disk.readVectored(sectors(1, true), i));
        }
        assertEquals(50, timer.asked().size(), "every request waits on its own, none waits for another");
        reads.forEach(r -> assertFalse(r.isDone()));
        timer.elapseAll();
        reads.forEach(r -> succeeds(r));
    }

    @Test
    void aFailureBelowIsReportedUnchanged() {
        CompletableFuture<Void> r = disk.readVectored(sectors(2, true), 63); // past the end of the disk below
        timer.elapseAll();
        failsWith(DiskError.IllegalBlock.class, r);
    }

    @Test
    void inspectShowsTheDelaysAndWhereTheyComeFrom() {
        InspectTree tree = InspectTree.of(disk);
        assertEquals("delay", tree.get("disk_type"));
        assertEquals("30ms", tree.get("read_delay"));
        assertEquals("70ms", tree.get("write_delay"));
        assertEquals("spec", tree.get("delays_from"));
        assertEquals("memory", tree.get("inner.disk_type"));
        delay.setDelays(new Delays(Duration.ofNanos(1500_000), Duration.ofSeconds(3)), "org.diskhost.delay~d");
        tree = InspectTree.of(disk);
        assertEquals("1500us", tree.get("read_delay"));
        assertEquals("3s", tree.get("write_delay"));
        assertEquals("org.diskhost.delay~d", tree.get("delays_from"));
    }

    @Test
    void closingStopsRuntimeChangesButLeavesTheDiskBelowOpen() {
        live.register(delay);
        assertEquals(List.of(delay), live.disks("d"));
        disk.close();
        assertTrue(live.disks("d").isEmpty());
        read(Disk.of(memory), 0, 1);
    }

    @Test
    void theSystemTimerWaitsAtLeastTheDelayWithoutBlockingTheCaller() {
        Duration wait = Duration.ofMillis(300);
        long start = System.nanoTime();
        CompletableFuture<Void> done = DelayTimer.SYSTEM.after(wait);
        long returned = System.nanoTime() - start;
        assertTrue(returned < wait.toNanos(), "after() returns before the delay has passed");
        succeeds(done);
        assertTrue(System.nanoTime() - start >= wait.toNanos(), "completes only after the delay");
        assertTrue(DelayTimer.SYSTEM.after(Duration.ZERO).isDone());
    }
}
