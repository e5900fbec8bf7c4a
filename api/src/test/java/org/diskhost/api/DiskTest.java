package org.diskhost.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DiskTest {
    private static final long U64_MAX = -1L;

    static DiskError errorOf(CompletableFuture<?> request) {
        Throwable t = assertThrows(Throwable.class, () -> request.get(5, TimeUnit.SECONDS));
        return DiskError.of(t);
    }

    static RequestBuffers buffer(int bytes, boolean writable) {
        return RequestBuffers.of(Arena.ofAuto().allocate(bytes, 4096), writable);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 256, 511, 513, 1000, 3072, -512})
    void sectorSizeMustBePowerOfTwoOfAtLeast512(int size) {
        ArrayDiskIo io = new ArrayDiskIo(512, 4) {
            @Override
            public int sectorSize() {
                return size;
            }
        };
        InvalidDiskException e = assertThrows(InvalidDiskException.class, () -> Disk.of(io));
        assertEquals(new InvalidDisk.InvalidSectorSize(size), e.reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {512, 1024, 4096, 65536, 1 << 20})
    void sectorSizeHasNoUpperBound(int size) {
        ArrayDiskIo io = new ArrayDiskIo(size, 2);
        assertEquals(size, Disk.of(io).sectorSize());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 256, 3000, 6144, -4096})
    void physicalSectorSizeMustBePowerOfTwoNotBelowLogical(int physical) {
        ArrayDiskIo io = new ArrayDiskIo(512, 4);
        io.physicalSectorSize = physical;
        InvalidDiskException e = assertThrows(InvalidDiskException.class, () -> Disk.of(io));
        assertEquals(new InvalidDisk.InvalidPhysicalSectorSize(physical), e.reason());
    }

    @Test
    void physicalSectorSizeBelowLogicalIsRefused() {
        ArrayDiskIo io = new ArrayDiskIo(4096, 4);
        io.physicalSectorSize = 512;
        assertInstanceOf(InvalidDisk.InvalidPhysicalSectorSize.class,
                assertThrows(InvalidDiskException.class, () -> Disk.of(io)).reason());
    }

    @Test
    void metadataIsReadOnceAtConstruction() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        Disk disk = Disk.of(io);
        int reads = io.metadataReads.get();
        for (int i = 0; i < 10; i++) {
            disk.sectorSize();
        }
        assertEquals(reads, io.metadataReads.get());
        assertEquals(9, disk.sectorShift());
    }

    /** Reference section 8: the pairs that must give IllegalBlock on every disk, without reaching the backend. */
    @ParameterizedTest
    @ValueSource(ints = {512, 4096})
    void unrepresentableRangesFailWithoutReachingTheBackend(int sectorSize) {
        ArrayDiskIo io = new ArrayDiskIo(sectorSize, 8);
        Disk disk = Disk.of(io);
        long max = Long.MAX_VALUE / sectorSize;
        long wrapping = 1L << (64 - Integer.numberOfTrailingZeros(sectorSize));
        long[][] pairs = {{U64_MAX, 1}, {U64_MAX - 1, 2}, {max, 1}, {max - 1, 2}, {wrapping, 1}};
        for (long[] p : pairs) {
            long sector = p[0];
            int count = (int) p[1];
            assertFalse(disk.isRepresentable(sector, count), () -> sector + "+" + count);
            assertInstanceOf(DiskError.IllegalBlock.class,
                    errorOf(disk.readVectored(buffer(count * sectorSize, true), sector)));
            assertInstanceOf(DiskError.IllegalBlock.class,
                    errorOf(disk.writeVectored(buffer(count * sectorSize, false), sector, false)));
            assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(sector, count, false)));
        }
        assertEquals(0, io.calls.get());
    }

    @Test
    void theLastRepresentableSectorReachesTheBackend() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        Disk disk = Disk.of(io);
        long max = Long.MAX_VALUE / 512;
        assertTrue(disk.isRepresentable(max - 1, 1));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.readVectored(buffer(512, true), max - 1)));
        assertEquals(1, io.calls.get(), "the backend does the range check");
    }

    @Test
    void unmapIsCheckedWithItsOwnCount() {
        Disk disk = Disk.of(new ArrayDiskIo(512, 8));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(U64_MAX, 1, false)));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(1, U64_MAX, false)));
    }

    @Test
    void readOnlyDiskRefusesWritesAndUnmapsBeforeTheBackend() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        io.readOnly = true;
        Disk disk = Disk.of(io);
        assertInstanceOf(DiskError.ReadOnly.class, errorOf(disk.writeVectored(buffer(512, false), 0, false)));
        assertInstanceOf(DiskError.ReadOnly.class, errorOf(disk.unmap(0, 8, false)));
        // A range outside the disk is still an IllegalBlock, read-only or not.
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.writeVectored(buffer(512, false), 8, false)));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(7, 2, false)));
        assertEquals(0, io.calls.get());
        disk.readVectored(buffer(512, true), 0).join();
        assertEquals(1, io.calls.get());
    }

    @Test
    void ignoredUnmapIsHandledByDiskWithARangeCheck() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        io.unmapBehavior = UnmapBehavior.IGNORED;
        Disk disk = Disk.of(io);
        disk.unmap(0, 8, false).join();
        disk.unmap(8, 0, false).join();
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(8, 1, false)));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.unmap(7, 2, false)));
        assertEquals(0, io.calls.get());
    }

    @Test
    void unmapOfOtherBehavioursReachesTheBackend() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        Disk disk = Disk.of(io);
        disk.unmap(0, 1, true).join();
        assertEquals(1, io.calls.get());
    }

    @Test
    void waitResizeIsForwarded() throws Exception {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        Disk disk = Disk.of(io);
        CompletableFuture<Long> waiting = disk.waitResize(8);
        assertFalse(waiting.isDone());
        io.resize.complete(16L);
        assertEquals(16L, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void ejectDefaultsToUnsupported() {
        Disk disk = Disk.of(new ArrayDiskIo(512, 8));
        assertInstanceOf(DiskError.UnsupportedEject.class, errorOf(disk.eject()));
    }

    @Test
    void aThrowingBackendGivesAFailedFutureNotAnException() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8) {
            @Override
            public CompletableFuture<Void> syncCache() {
                throw new IllegalStateException("boom");
            }

            @Override
            public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
                throw new DiskException(new DiskError.MediumError(new java.io.IOException("bad"),
                        MediumErrorDetails.UNRECOVERED_READ_ERROR));
            }
        };
        Disk disk = Disk.of(io);
        assertInstanceOf(DiskError.Io.class, errorOf(disk.syncCache()));
        DiskError read = errorOf(disk.readVectored(buffer(512, true), 0));
        assertEquals(MediumErrorDetails.UNRECOVERED_READ_ERROR, ((DiskError.MediumError) read).details());
    }

    @Test
    void dataRoundTripsAndFuaIsPassedOn() {
        ArrayDiskIo io = new ArrayDiskIo(512, 8);
        Disk disk = Disk.of(io);
        MemorySegment out = Arena.ofAuto().allocate(1024);
        for (int i = 0; i < 1024; i++) {
            out.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        disk.writeVectored(RequestBuffers.of(out, false), 3, true).join();
        assertTrue(io.lastFua);
        MemorySegment in = Arena.ofAuto().allocate(1024);
        disk.readVectored(RequestBuffers.of(in, true), 3).join();
        assertArrayEquals(out.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                in.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void inspectShowsTypeCountAndPrSupport() {
        Disk disk = Disk.of(new ArrayDiskIo(512, 8));
        InspectTree tree = InspectTree.of(disk);
        assertEquals("array", tree.get("disk_type"));
        assertEquals(8L, tree.get("sector_count"));
        assertEquals(false, tree.get("supports_pr"));
    }

    @Test
    void diskErrorOfUnwrapsCompletionExceptions() {
        CompletableFuture<Void> failed = DiskException.failed(new DiskError.ReservationConflict());
        CompletableFuture<Void> chained = failed.thenApply(v -> v);
        assertInstanceOf(DiskError.ReservationConflict.class, errorOf(chained));
        DiskError io = DiskError.of(new java.io.IOException("disk gone"));
        assertInstanceOf(DiskError.Io.class, io);
    }

    @Test
    void everyErrorHasTheReferenceDisplayText() {
        assertEquals("aborted command", new DiskError.AbortDueToPreemptAndAbort().message());
        assertEquals("illegal request", new DiskError.IllegalBlock().message());
        assertEquals("invalid input", new DiskError.InvalidInput().message());
        assertEquals("io error", new DiskError.Io(new java.io.IOException()).message());
        assertEquals("attempt to write to read-only disk/range", new DiskError.ReadOnly().message());
        assertEquals("reservation conflict", new DiskError.ReservationConflict().message());
        assertEquals("unsupported eject", new DiskError.UnsupportedEject().message());
        assertEquals("failed to access guest memory",
                new DiskError.MemoryAccess(new AccessError.ReadOnly()).message());
        assertEquals("write attempted to read-only memory", new AccessError.ReadOnly().message());
    }

    @Test
    void fitsIsTheUnsignedRangeCheck() {
        assertTrue(Disk.fits(0, 8, 8));
        assertTrue(Disk.fits(8, 0, 8));
        assertFalse(Disk.fits(8, 1, 8));
        assertFalse(Disk.fits(7, 2, 8));
        assertFalse(Disk.fits(U64_MAX, 1, 8));
        assertFalse(Disk.fits(1, U64_MAX, 8), "a count that wraps the end");
        assertFalse(Disk.fits(9, 0, 8));
    }

    @Test
    void allocationIsRangeCheckedAndDefaultsToData() {
        Disk disk = Disk.of(new ArrayDiskIo(512, 8));
        assertEquals(java.util.List.of(new AllocationExtent(3, Allocation.DATA)), disk.allocation(5, 3).join());
        assertEquals(java.util.List.of(), disk.allocation(8, 0).join());
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.allocation(6, 3)));
        assertInstanceOf(DiskError.IllegalBlock.class, errorOf(disk.allocation(1, U64_MAX)));
    }

    @Test
    void allocationAnswersAreMadeWellFormed() {
        java.util.List<AllocationExtent> answer = new java.util.ArrayList<>();
        ArrayDiskIo io = new ArrayDiskIo(512, 8) {
            @Override
            public CompletableFuture<java.util.List<AllocationExtent>> allocation(long sector, long count) {
                return CompletableFuture.completedFuture(answer);
            }
        };
        Disk disk = Disk.of(io);
        answer.add(new AllocationExtent(2, Allocation.HOLE));
        answer.add(new AllocationExtent(6, Allocation.DATA));
        assertEquals(java.util.List.of(new AllocationExtent(2, Allocation.HOLE), new AllocationExtent(1, Allocation.DATA)),
                disk.allocation(0, 3).join(), "cut at the requested count");
        answer.clear();
        assertEquals(java.util.List.of(new AllocationExtent(1, Allocation.DATA)), disk.allocation(0, 3).join(),
                "an empty answer still makes progress");
        assertThrows(IllegalArgumentException.class, () -> new AllocationExtent(0, Allocation.ZERO));
        assertTrue(Allocation.HOLE.readsAsZeros());
        assertFalse(Allocation.DATA.readsAsZeros());
    }
}
