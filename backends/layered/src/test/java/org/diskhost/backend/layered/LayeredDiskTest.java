package org.diskhost.backend.layered;

import static org.diskhost.backend.layered.Stacks.cache;
import static org.diskhost.backend.layered.Stacks.memory;
import static org.diskhost.backend.layered.Stacks.plain;
import static org.diskhost.backend.layered.Stacks.ram;
import static org.diskhost.backend.layered.Stacks.writeThrough;
import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Test;

/** The reference's layered-disk cases, each validation, the derived properties and the unmap rules. */
class LayeredDiskTest {

    /** A read-only memory disk of {@code sectors} sectors holding a pattern. */
    private static MemoryDisk patterned(int sectorSize, long sectors, long seed) {
        MemoryDisk disk = MemoryDisk.builder(sectorSize, sectors).readOnly(true).build();
        pattern(disk.content(), seed);
        return disk;
    }

    private static LayeredError refused(boolean readOnly, LayerDescription... layers) {
        CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                () -> LayeredDisk.create(readOnly, List.of(layers)).join());
        return assertInstanceOf(LayeredException.class, e.getCause()).error();
    }

    // ---- the reference's read-cache case ----

    @Test
    void aReadCacheKeepsExactlyWhatWasReadAndServesTheRightData() {
        MemoryDisk base = patterned(512, 64, 77);
        RamLayer cache = ram(512, 64);
        Disk disk = Stacks.disk(true, cache(cache), plain(new DiskLayer(Disk.of(base))));
        for (int round = 0; round < 2; round++) {
            for (long s : new long[] {0, 2, 4, 6, 8}) {
                assertSameBytes(base.content().asSlice(s * 512, 512), read(disk, s, 1), "sector " + s);
            }
        }
        assertEquals(5, cache.presentSectors(), "reading 5 sectors twice caches exactly 5");
        MemorySegment wide = read(disk, 1, 15);
        assertEquals(16, cache.presentSectors(), "sectors 0..15 are cached");
        assertSameBytes(base.content().asSlice(512, 15 * 512), wide, "15 sectors from 1");
        long before = base.requests();
        assertSameBytes(base.content().asSlice(0, 16 * 512), read(disk, 0, 16), "served from the cache");
        assertEquals(before, base.requests(), "a cached read does not reach the disk below");
    }

    @Test
    void sectorsNoLayerHasAreCachedAsZeros() {
        RamLayer cache = ram(512, 64);
        Disk disk = Stacks.disk(true, cache(cache), plain(ram(512, 64)));
        assertTrue(isZero(read(disk, 10, 4)));
        assertEquals(4, cache.presentSectors());
    }

    @Test
    void theCacheIsNotFilledFromGuestMemoryAndNeverOverwritesNewerData() {
        MemoryDisk base = patterned(512, 64, 3);
        RamLayer cache = ram(512, 64);
        MemorySegment newer = pattern(512, 99);
        succeeds(cache.write(RequestBuffers.of(newer, false), 5, false));
        Disk disk = Stacks.disk(true, cache(cache), plain(new DiskLayer(Disk.of(base))));
        MemorySegment got = read(disk, 4, 3);
        assertSameBytes(base.content().asSlice(4 * 512, 512), got.asSlice(0, 512), "sector 4 from below");
        assertSameBytes(newer, got.asSlice(512, 512), "sector 5 from the cache");
        // No-overwrite: sector 5 in the cache is still the newer data.
        MemorySegment again = allocate(512);
        succeeds(cache.read(RequestBuffers.of(again, true), 5, new org.diskhost.testkit.RecordingMarker(5, 1)));
        assertSameBytes(newer, again, "the cache keeps its data");
    }

    @Test
    void aFailingCacheFillDoesNotFailTheRead() {
        MemoryDisk base = patterned(512, 64, 9);
        LayerIo failing = new ForwardingLayer(ram(512, 64)) {
            @Override
            public Optional<org.diskhost.api.layer.WriteNoOverwrite> writeNoOverwrite() {
                return Optional.of((b, s) -> CompletableFuture.failedFuture(new IllegalStateException("full")));
            }
        };
        Disk disk = Stacks.disk(true, cache(failing), plain(new DiskLayer(Disk.of(base))));
        assertSameBytes(base.content().asSlice(0, 4 * 512), read(disk, 0, 4), "read despite the cache");
    }

    // ---- diffs, visibility, resize ----

    @Test
    void writesLandInTheTopLayerAndReadsMerge() {
        MemoryDisk base = patterned(512, 128, 1);
        RamLayer top = ram(512, 128);
        Disk disk = Stacks.disk(false, plain(top), plain(new DiskLayer(Disk.of(base))));
        MemorySegment data = pattern(2 * 512, 2);
        write(disk, 10, data);
        MemorySegment got = read(disk, 9, 4);
        assertSameBytes(base.content().asSlice(9 * 512, 512), got.asSlice(0, 512), "sector 9 from below");
        assertSameBytes(data, got.asSlice(512, 1024), "sectors 10, 11 from the top");
        assertSameBytes(base.content().asSlice(12 * 512, 512), got.asSlice(1536, 512), "sector 12 from below");
        assertEquals(2, top.presentSectors());
    }

    @Test
    void ramShrinkAndGrowReadsZerosAboveTheOldSize() {
        MemoryDisk base = patterned(512, 128, 4);
        RamLayer top = ram(512, 128);
        Disk disk = Stacks.disk(false, plain(top), plain(new DiskLayer(Disk.of(base))));
        CompletableFuture<Long> resized = disk.waitResize(128);
        assertFalse(resized.isDone());
        top.resize(64);
        assertEquals(64L, succeeds(resized), "waitResize follows the top layer");
        assertEquals(64, disk.sectorCount());
        failsWith(DiskError.IllegalBlock.class, disk.readVectored(RequestBuffers.of(allocate(512), true), 64));
        top.resize(128);
        assertTrue(isZero(read(disk, 64, 64)), "the upper half reads zeros, not the layer below");
        assertSameBytes(base.content().asSlice(0, 64 * 512), read(disk, 0, 64), "the lower half is unchanged");
    }

    @Test
    void aLowerLayerShowsOnlyItsVisibleSectors() {
        MemoryDisk base = patterned(512, 100, 8);
        Disk disk = Stacks.disk(false, plain(ram(512, 128)), plain(new DiskLayer(Disk.of(base))));
        MemorySegment got = read(disk, 96, 8);
        assertSameBytes(base.content().asSlice(96 * 512, 4 * 512), got.asSlice(0, 4 * 512), "visible");
        assertTrue(isZero(got.asSlice(4 * 512, 4 * 512)), "beyond the lower layer: zeros");
    }

    // ---- unmap ----

    @Test
    void unmapOverANonZeroLayerBelowIsIgnoredUnlessItReachesTheEnd() {
        MemoryDisk base = patterned(512, 64, 12);
        RamLayer top = ram(512, 64);
        Disk disk = Stacks.disk(false, plain(top), plain(new DiskLayer(Disk.of(base))));
        assertEquals(UnmapBehavior.UNSPECIFIED, disk.unmapBehavior());
        MemorySegment data = pattern(64 * 512, 13);
        write(disk, 0, data);
        succeeds(disk.unmap(0, 63, false));
        assertSameBytes(data, read(disk, 0, 64), "all but the last sector: ignored");
        succeeds(disk.unmap(32, 32, false));
        assertTrue(isZero(read(disk, 32, 32)), "the second half reads zeros");
        assertSameBytes(data.asSlice(0, 32 * 512), read(disk, 0, 32), "the first half is unchanged");
        assertEquals(32, top.zeroAfter());
    }

    @Test
    void unmapWithNothingBelowDropsTheSectors() {
        RamLayer top = ram(512, 64);
        Disk disk = Stacks.disk(false, plain(top));
        write(disk, 0, pattern(8 * 512, 1));
        succeeds(disk.unmap(0, 4, false));
        assertEquals(4, top.presentSectors());
        assertTrue(isZero(read(disk, 0, 4)));
        assertEquals(64, top.zeroAfter(), "nextIsZero: the watermark stays");
    }

    @Test
    void unmapBeyondTheVisiblePartOfTheLayerBelowDrops() {
        RamLayer top = ram(512, 128);
        Disk disk = Stacks.disk(false, plain(top), plain(new DiskLayer(Disk.of(patterned(512, 64, 2)))));
        write(disk, 64, pattern(8 * 512, 1));
        succeeds(disk.unmap(64, 4, false));
        assertEquals(4, top.presentSectors(), "the sectors beyond the layer below are dropped");
        assertTrue(isZero(read(disk, 64, 4)));
    }

    @Test
    void zeroCountUnmapsSucceedWithoutReachingTheLayers() {
        MemoryDisk below = MemoryDisk.of(512, 64);
        Disk disk = Stacks.disk(false, writeThrough(ram(512, 64)), plain(new DiskLayer(Disk.of(below))));
        assertEquals(UnmapBehavior.IGNORED, disk.unmapBehavior(), "write-through over a mix: ignored");
        Disk zeroing = Stacks.disk(false, plain(new DiskLayer(Disk.of(below))));
        assertEquals(UnmapBehavior.ZEROES, zeroing.unmapBehavior());
        long before = below.requests();
        succeeds(zeroing.unmap(64, 0, false));
        succeeds(zeroing.unmap(3, 0, false));
        assertEquals(before, below.requests());
        failsWith(DiskError.IllegalBlock.class, zeroing.unmap(65, 0, false));
    }

    @Test
    void writeThroughReachesEveryLayerOfTheWritePathAndStopsAtTheFirstOther() {
        MemoryDisk middle = MemoryDisk.of(512, 64);
        MemoryDisk bottom = MemoryDisk.builder(512, 64).readOnly(true).build();
        RamLayer top = ram(512, 64);
        Disk disk = Stacks.disk(false, writeThrough(top), plain(new DiskLayer(Disk.of(middle))),
                plain(new DiskLayer(Disk.of(bottom))));
        MemorySegment data = pattern(512, 5);
        write(disk, 7, data);
        assertEquals(1, top.presentSectors());
        assertSameBytes(data, middle.content().asSlice(7 * 512, 512), "written through");
        assertTrue(isZero(bottom.content()), "not beyond the first layer that is not write-through");
        succeeds(disk.syncCache());
    }

    @Test
    void aReadOnlyLayeredDiskRefusesWritesItself() {
        RamLayer top = ram(512, 64);
        LayeredDisk layered = Stacks.layered(true, plain(top));
        failsWith(DiskError.ReadOnly.class, layered.writeVectored(RequestBuffers.of(allocate(512), false), 0, false));
        failsWith(DiskError.ReadOnly.class, layered.unmap(0, 1, false));
        failsWith(DiskError.IllegalBlock.class, layered.writeVectored(RequestBuffers.of(allocate(512), false), 64,
                false));
        assertEquals(0, top.presentSectors());
    }

    // ---- validation, in the reference's order ----

    @Test
    void anEmptyStackIsRefused() {
        assertInstanceOf(LayeredError.NoLayers.class, refused(false));
    }

    @Test
    void aFailedAttachNamesTheLayerAndClosesTheOthers() {
        RamLayer bottom = ram(512, 64);
        boolean[] aboveClosed = {false};
        UnattachedLayer above = new UnattachedLayer() {
            @Override
            public CompletableFuture<LayerIo> attach(Optional<org.diskhost.api.layer.LowerLayer> below) {
                return CompletableFuture.completedFuture(ram(512, 64));
            }

            @Override
            public void close() {
                aboveClosed[0] = true;
            }
        };
        UnattachedLayer failing = below -> CompletableFuture.failedFuture(new IllegalStateException("no store"));
        LayeredError error = refused(false, new LayerDescription(above, false, false),
                new LayerDescription(failing, false, false), plain(bottom));
        LayeredError.AttachFailed failed = assertInstanceOf(LayeredError.AttachFailed.class, error);
        assertEquals(1, failed.layer());
        assertTrue(aboveClosed[0], "the layer above, never attached, is closed");
    }

    @Test
    void aReadCacheNeedsANoOverwriteWrite() {
        LayeredError error = refused(true, cache(memory(512, 64, true)), plain(ram(512, 64)));
        assertEquals(0, assertInstanceOf(LayeredError.ReadCacheNotSupported.class, error).layer());
    }

    @Test
    void mismatchedSectorSizesAreRefusedBothWays() {
        LayeredError.MismatchedSectorSize a = assertInstanceOf(LayeredError.MismatchedSectorSize.class,
                refused(false, plain(ram(4096, 16)), plain(memory(512, 128, true))));
        assertEquals(512, a.expected());
        assertEquals(4096, a.found());
        LayeredError.MismatchedSectorSize b = assertInstanceOf(LayeredError.MismatchedSectorSize.class,
                refused(false, plain(ram(512, 128)), plain(memory(4096, 16, true))));
        assertEquals(4096, b.expected());
        assertEquals(512, b.found());
    }

    @Test
    void aReadOnlyLayerInTheWritePathOfAWritableDiskIsRefused() {
        assertEquals(0, assertInstanceOf(LayeredError.ReadOnly.class,
                refused(false, plain(memory(512, 64, true)))).layer());
        assertEquals(1, assertInstanceOf(LayeredError.ReadOnly.class,
                refused(false, writeThrough(ram(512, 64)), plain(memory(512, 64, true)))).layer());
        Stacks.layered(true, plain(memory(512, 64, true))); // fine on a read-only disk
        Stacks.layered(false, plain(ram(512, 64)), plain(memory(512, 64, true))); // not in the write path
    }

    @Test
    void uselessWriteThroughIsRefused() {
        LayeredError.UselessWriteThrough afterPlain = assertInstanceOf(LayeredError.UselessWriteThrough.class,
                refused(false, plain(ram(512, 64)), writeThrough(ram(512, 64)), plain(ram(512, 64))));
        assertEquals(1, afterPlain.layer());
        LayeredError.UselessWriteThrough last = assertInstanceOf(LayeredError.UselessWriteThrough.class,
                refused(false, writeThrough(ram(512, 64)), writeThrough(ram(512, 64))));
        assertEquals(1, last.layer());
        assertTrue(last.bottom());
    }

    // ---- derived properties ----

    @Test
    void derivedProperties() {
        DiskId id = DiskId.ofHex("00112233445566778899aabbccddeeff");
        Disk withId = Disk.of(MemoryDisk.builder(512, 64).diskId(id).readOnly(true).build());
        LayeredDisk disk = Stacks.layered(false, plain(ram(512, 64)), plain(new DiskLayer(withId)));
        assertEquals(Optional.of(id), disk.diskId(), "the first identity from the top, through every layer");
        assertEquals(512, disk.sectorSize());
        assertEquals(512, disk.physicalSectorSize());
        assertTrue(disk.isFuaRespected());
        assertEquals(UnmapBehavior.UNSPECIFIED, disk.unmapBehavior());
        assertEquals("layered", disk.diskType());
        assertEquals(64, disk.sectorCount());

        LayerIo noFua = new ForwardingLayer(ram(512, 64)) {
            @Override
            public boolean isFuaRespected() {
                return false;
            }

            @Override
            public int optimalUnmapSectors() {
                return 8;
            }
        };
        LayeredDisk chain = Stacks.layered(false, writeThrough(ram(512, 64)), plain(noFua));
        assertFalse(chain.isFuaRespected(), "FUA only if every write-path layer respects it");
        assertEquals(8, chain.optimalUnmapSectors(), "the largest of the write path");
        LayeredDisk notInPath = Stacks.layered(false, plain(ram(512, 64)), plain(noFua));
        assertTrue(notInPath.isFuaRespected());
        assertEquals(1, notInPath.optimalUnmapSectors());
    }

    @Test
    void unmapBehaviourFollowsTheWritePath() {
        Disk zeroesBelow = Disk.of(MemoryDisk.of(512, 64));
        assertEquals(UnmapBehavior.ZEROES, Stacks.layered(false, plain(new DiskLayer(zeroesBelow))).unmapBehavior());
        assertEquals(UnmapBehavior.IGNORED, Stacks.layered(false, writeThrough(ram(512, 64)),
                plain(new DiskLayer(zeroesBelow))).unmapBehavior());
        LayerIo zeroingRam = new ForwardingLayer(ram(512, 64)) {
            @Override
            public UnmapBehavior unmapBehavior() {
                return UnmapBehavior.ZEROES;
            }
        };
        assertEquals(UnmapBehavior.ZEROES, Stacks.layered(false, writeThrough(zeroingRam),
                plain(new DiskLayer(zeroesBelow))).unmapBehavior());
    }

    @Test
    void aReadIntoBuffersTheDeviceMayNotWriteFailsEvenWhenNoLayerHasTheSectors() {
        Disk disk = Stacks.disk(false, plain(ram(512, 64)));
        assertInstanceOf(DiskError.MemoryAccess.class,
                fails(disk.readVectored(RequestBuffers.of(allocate(512), false), 0)));
    }

    // ---- allocation ----

    private static List<AllocationExtent> extents(Object... runs) {
        List<AllocationExtent> out = new java.util.ArrayList<>();
        for (int i = 0; i < runs.length; i += 2) {
            out.add(new AllocationExtent(((Number) runs[i]).longValue(), (Allocation) runs[i + 1]));
        }
        return out;
    }

    @Test
    void allocationShowsTheTopmostLayerThatHoldsEachSectorAndHolesWhereNoneDoes() {
        RamLayer top = ram(512, 128);
        RamLayer middle = ram(512, 128);
        Disk disk = Stacks.disk(false, plain(top), plain(middle), plain(memory(512, 100, true)));
        write(disk, 8, pattern(8 * 512, 1));
        succeeds(middle.write(RequestBuffers.of(pattern(4 * 512, 2), false), 20, false));
        // The memory disk below reports DATA for its 100 sectors; beyond them nothing holds anything.
        assertEquals(extents(100, Allocation.DATA, 28, Allocation.HOLE), succeeds(disk.allocation(0, 128)));

        RamLayer alone = ram(512, 64);
        Disk single = Stacks.disk(false, plain(alone));
        write(single, 8, pattern(8 * 512, 3));
        assertEquals(extents(8, Allocation.HOLE, 8, Allocation.DATA, 48, Allocation.HOLE),
                succeeds(single.allocation(0, 64)));
        alone.resize(32);
        alone.resize(64);
        assertEquals(extents(8, Allocation.HOLE, 8, Allocation.DATA, 16, Allocation.HOLE, 32, Allocation.ZERO),
                succeeds(single.allocation(0, 64)), "above the watermark: zeros that hide what is below");
        failsWith(DiskError.IllegalBlock.class, single.allocation(60, 5));
    }

    @Test
    void aLowerDisksHolesAreHolesOnlyAtTheBottom() {
        MemoryDisk sparse = MemoryDisk.of(512, 64);
        Disk holes = Disk.of(new org.diskhost.api.ForwardingDiskIo(Disk.of(sparse)) {
            @Override
            public String diskType() {
                return "sparse";
            }

            @Override
            public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
                return CompletableFuture.completedFuture(List.of(new AllocationExtent(count, Allocation.HOLE)));
            }
        });
        Disk bottom = Stacks.disk(false, plain(ram(512, 64)), new LayerDescription(
                below -> CompletableFuture.completedFuture(new DiskLayer(holes, below.isEmpty())), false, false));
        assertEquals(extents(64, Allocation.HOLE), succeeds(bottom.allocation(0, 64)));
        Disk middle = Stacks.disk(false, plain(ram(512, 64)), plain(new DiskLayer(holes, false)),
                plain(memory(512, 64, true)));
        assertEquals(extents(64, Allocation.ZERO), succeeds(middle.allocation(0, 64)),
                "a disk layer holds every sector: its holes hide the layers below");
    }
}
