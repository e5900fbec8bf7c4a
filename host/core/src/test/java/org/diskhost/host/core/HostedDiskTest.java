package org.diskhost.host.core;

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
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskIo;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.testkit.MemoryDisk;
import org.diskhost.testkit.WrapperContract;
import org.junit.jupiter.api.Test;

class HostedDiskTest {
    private final MemoryDisk memory = MemoryDisk.of(512, 128);
    private final DiskResolver resolver = new DiskResolver() {
        public String kind() {
            return "memory";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            return CompletableFuture.completedFuture(Disk.of(memory));
        }
    };
    private final DiskSpec spec = DiskSpec.parse("d", Map.of("kind", "memory"), Path.of("."));

    private ResolvedChain chain() {
        return ResolvedChain.resolve("d", spec, false, kind -> resolver).join();
    }

    @Test
    void requestsWaitWhilePausedAndRunOnTheNextChain() {
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), chain());
        Disk disk = Disk.of(hosted);
        MemorySegment data = pattern(512, 1);
        succeeds(disk.writeVectored(RequestBuffers.of(data, false), 0, false));

        hosted.pause("swap", 1000);
        assertEquals(HostedDisk.State.WAITING, hosted.state());
        CompletableFuture<Void> waiting = disk.readVectored(RequestBuffers.of(allocate(512), true), 0);
        assertFalse(waiting.isDone(), "a request on a paused disk waits");
        assertEquals(512, disk.sectorSize(), "metadata stays available while paused");

        hosted.activate(hosted.beginRebuild(), chain());
        succeeds(waiting);
        assertSameBytes(data, read(disk, 0, 1), "data after the new chain came up");
        assertTrue(hosted.uses(resolver));
    }

    @Test
    void pauseDrainsRequestsInFlightBeforeClosingTheChain() throws Exception {
        CompletableFuture<Void> release = new CompletableFuture<>();
        MemoryDisk slow = MemoryDisk.builder(512, 64).completeOn(task -> release.thenRun(task)).build();
        DiskResolver slowResolver = new DiskResolver() {
            public String kind() {
                return "memory";
            }

            public CompletableFuture<Disk> resolve(DiskSpec s, ResolveContext c) {
                return CompletableFuture.completedFuture(Disk.of(slow));
            }
        };
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> slowResolver).join());
        Disk disk = Disk.of(hosted);
        CompletableFuture<Void> inFlight = disk.readVectored(RequestBuffers.of(allocate(512), true), 0);
        CompletableFuture<Void> pausing = CompletableFuture.runAsync(() -> hosted.pause("swap", 10_000));
        Thread.sleep(100);
        assertFalse(pausing.isDone(), "pause waits for the request in flight");
        release.complete(null);
        succeeds(pausing);
        succeeds(inFlight);
    }

    @Test
    void aFailedDiskFailsWaitingAndNewRequestsWithAnIoErrorSayingWhy() {
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), chain());
        Disk disk = Disk.of(hosted);
        hosted.pause("swap", 1000);
        long generation = hosted.beginRebuild();
        CompletableFuture<Void> waiting = disk.syncCache();
        hosted.fail(generation, "no resolver for kind 'memory'");
        DiskError.Io error = failsWith(DiskError.Io.class, waiting);
        assertTrue(error.cause().getMessage().contains("no resolver for kind 'memory'"));
        failsWith(DiskError.Io.class, disk.syncCache());
        assertEquals(HostedDisk.State.FAILED, hosted.state());
    }

    /** The host's disk answers for nothing itself: a new DiskIo method must be forwarded here too. */
    @Test
    void forwardsEveryDiskIoMethod() {
        WrapperContract.assertOverridesEveryMethod(HostedDisk.class, DiskIo.class, Map.of());
    }

    /** Block status comes from the serving chain (it once came from DiskIo's all-data default), and waits in a pause. */
    @Test
    void allocationComesFromTheServingChainAndWaitsWhilePaused() {
        List<AllocationExtent> map = List.of(new AllocationExtent(8, Allocation.DATA),
                new AllocationExtent(100, Allocation.HOLE), new AllocationExtent(20, Allocation.ZERO));
        DiskResolver sparse = new DiskResolver() {
            public String kind() {
                return "memory";
            }

            public CompletableFuture<Disk> resolve(DiskSpec s, ResolveContext c) {
                return CompletableFuture.completedFuture(Disk.of(new ForwardingDiskIo(Disk.of(memory)) {
                    public String diskType() {
                        return "sparse";
                    }

                    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
                        return CompletableFuture.completedFuture(map);
                    }
                }));
            }
        };
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> sparse).join());
        Disk disk = Disk.of(hosted);
        assertEquals(map, succeeds(disk.allocation(0, 128)));

        hosted.pause("swap", 1000);
        CompletableFuture<List<AllocationExtent>> waiting = disk.allocation(0, 128);
        assertFalse(waiting.isDone(), "block status on a paused disk waits for the next chain");
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> sparse).join());
        assertEquals(map, succeeds(waiting));
    }

    @Test
    void aStaleRebuildResultIsDropped() {
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        long first = hosted.beginRebuild();
        long second = hosted.beginRebuild();
        assertFalse(hosted.activate(first, chain()));
        assertTrue(hosted.activate(second, chain()));
    }

    @Test
    void waitResizeFollowsTheServingChain() {
        MemoryDisk growable = MemoryDisk.builder(512, 64).capacity(256).build();
        DiskResolver r = new DiskResolver() {
            public String kind() {
                return "memory";
            }

            public CompletableFuture<Disk> resolve(DiskSpec s, ResolveContext c) {
                return CompletableFuture.completedFuture(Disk.of(growable));
            }
        };
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> r).join());
        CompletableFuture<Long> resized = Disk.of(hosted).waitResize(64);
        assertFalse(resized.isDone());
        growable.resize(200);
        assertEquals(200L, succeeds(resized));
    }

    /** After the wait times out, waiting requests fail, but the disk still comes up when its resolver arrives. */
    @Test
    void anExpiredWaitFailsRequestsButTheDiskStillComesUpLater() {
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), chain());
        Disk disk = Disk.of(hosted);
        hosted.pause("swap", 1000);
        long generation = hosted.beginRebuild();
        hosted.waiting(generation, "memory", "no resolver for kind 'memory'");
        CompletableFuture<Void> waiting = disk.syncCache();
        hosted.expireWaiting(generation, "no resolver for kind 'memory' (waited 30000 ms)");
        DiskError.Io error = failsWith(DiskError.Io.class, waiting);
        assertTrue(error.cause().getMessage().contains("waited 30000 ms"), error.cause().getMessage());
        failsWith(DiskError.Io.class, disk.syncCache());
        assertEquals(HostedDisk.State.WAITING, hosted.state(), "still waiting for a resolver");

        assertTrue(hosted.activate(hosted.beginRebuild(), chain()));
        succeeds(disk.syncCache());
    }

    /** A resize waiter parked on a chain that is replaced follows the disk to the new chain. */
    @Test
    void waitResizeSurvivesARebuildThatChangesTheSize() {
        MemoryDisk small = MemoryDisk.of(512, 64);
        MemoryDisk large = MemoryDisk.of(512, 96);
        MemoryDisk[] next = {small};
        DiskResolver r = new DiskResolver() {
            public String kind() {
                return "memory";
            }

            public CompletableFuture<Disk> resolve(DiskSpec s, ResolveContext c) {
                return CompletableFuture.completedFuture(Disk.of(next[0]));
            }
        };
        HostedDisk hosted = new HostedDisk("d", "pid", spec, false);
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> r).join());
        CompletableFuture<Long> resized = Disk.of(hosted).waitResize(64);
        assertFalse(resized.isDone());
        hosted.pause("reconfigured", 1000);
        next[0] = large;
        hosted.activate(hosted.beginRebuild(), ResolvedChain.resolve("d", spec, false, k -> r).join());
        assertEquals(96L, succeeds(resized));
    }
}
