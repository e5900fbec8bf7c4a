package org.diskhost.testkit;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.GuestMemory;
import org.diskhost.api.buffers.PagedRange;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite every backend passes: the reference's shared sector-range tests (representability, range,
 * zero-length read, last-sector read and write, sector wrap) and the basic data contract (round trips through
 * scattered and unaligned buffers, FUA, flush, unmap as the disk's behaviour says, concurrency).
 *
 * <p>A backend test extends this class and implements {@link #openDisk()}; to run the suite in several shapes
 * (sector sizes, options), use {@code @Nested} subclasses. The disk must have at least
 * {@value #MIN_SECTORS} sectors; it need not be writable (the writing tests are then skipped, and read-only
 * refusal is checked instead). It is closed after each test; a disk built through a resolution is returned as
 * {@link #chainDisk chainDisk(chain)}, so that the whole chain is closed.
 */
public abstract class DiskConformance {
    /** The smallest disk the suite works with. */
    public static final int MIN_SECTORS = 64;

    private static final long U64_MAX = -1L;

    protected Disk disk;

    private ResolvedChain chain;

    /** Opens a fresh disk of at least {@value #MIN_SECTORS} sectors for one test. */
    protected abstract Disk openDisk() throws Exception;

    /**
     * For {@link #openDisk()} of a disk resolved from a spec (by a {@link StandaloneResolution}): the chain's disk.
     * After the test the suite closes the whole chain, the disks below the top one too.
     */
    protected final Disk chainDisk(ResolvedChain chain) {
        this.chain = chain;
        return chain.disk();
    }

    @BeforeEach
    final void open() throws Exception {
        disk = openDisk();
        assertTrue(disk.sectorCount() >= MIN_SECTORS,
                "the conformance suite needs at least " + MIN_SECTORS + " sectors, got " + disk.sectorCount());
    }

    @AfterEach
    final void close() {
        if (chain != null) {
            chain.close();
        } else if (disk != null) {
            disk.close();
        }
    }

    private long maxSector() {
        return Long.MAX_VALUE / disk.sectorSize();
    }

    private RequestBuffers sectors(long count, boolean writable) {
        return RequestBuffers.of(allocate(count * disk.sectorSize()), writable);
    }

    private void assertIllegalEverywhere(long sector, long count) {
        String where = Long.toUnsignedString(sector) + " + " + count;
        failsWith(DiskError.IllegalBlock.class, disk.readVectored(sectors(count, true), sector));
        if (!disk.isReadOnly()) {
            failsWith(DiskError.IllegalBlock.class, disk.writeVectored(sectors(count, false), sector, false));
        }
        DiskError unmap = DiskAssertions.fails(disk.unmap(sector, count, false));
        assertTrue(unmap instanceof DiskError.IllegalBlock, "unmap of " + where + " gave " + unmap);
    }

    // ---- the reference's sector-range suites ----

    @Test
    void representability() {
        int shift = Integer.numberOfTrailingZeros(disk.sectorSize());
        long max = maxSector();
        assertIllegalEverywhere(U64_MAX, 1);
        assertIllegalEverywhere(U64_MAX - 1, 2);
        assertIllegalEverywhere(max, 1);
        assertIllegalEverywhere(max - 1, 2);
        assertIllegalEverywhere(1L << (64 - shift), 1); // wraps to byte 0 when shifted
    }

    @Test
    void rangesOutsideTheDiskAreIllegal() {
        long n = disk.sectorCount();
        assertIllegalEverywhere(n, 1);
        assertIllegalEverywhere(n - 1, 2);
        assertIllegalEverywhere(maxSector() - 1, 1);
    }

    @Test
    void theLastSectorCanBeRead() {
        read(disk, disk.sectorCount() - 1, 1);
    }

    @Test
    void aZeroLengthReadAtSectorZeroSucceeds() {
        succeeds(disk.readVectored(RequestBuffers.of(allocate(0), true), 0));
    }

    @Test
    void theLastSectorCanBeWrittenAndReadBack() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        long last = disk.sectorCount() - 1;
        MemorySegment data = pattern(disk.sectorSize(), last);
        write(disk, last, data);
        assertSameBytes(data, read(disk, last, 1), "last sector");
    }

    /** A sector whose byte offset wraps to 0 must fail, and must not return sector 0's data. */
    @Test
    void aSectorDoesNotWrapWhenShifted() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        MemorySegment cd = allocate(disk.sectorSize()).fill((byte) 0xCD);
        write(disk, 0, cd);
        long wrapping = 1L << (64 - Integer.numberOfTrailingZeros(disk.sectorSize()));
        MemorySegment into = allocate(disk.sectorSize());
        failsWith(DiskError.IllegalBlock.class, disk.readVectored(RequestBuffers.of(into, true), wrapping));
        assertFalse(into.get(ValueLayout.JAVA_BYTE, 0) == (byte) 0xCD, "the read returned sector 0's data");
    }

    // ---- the data contract ----

    @Test
    void dataRoundTripsAtManyPositions() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        long n = disk.sectorCount();
        long[] starts = {0, 1, 7, n / 2, n - 8};
        for (long start : starts) {
            MemorySegment data = pattern(8L * disk.sectorSize(), start + 1);
            write(disk, start, data);
            assertSameBytes(data, read(disk, start, 8), "8 sectors at " + start);
        }
    }

    @Test
    void scatteredAndUnalignedBuffersRoundTrip() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        int ss = disk.sectorSize();
        GuestMemory memory = GuestMemory.of(allocate(64L * GuestMemory.PAGE_SIZE));
        for (int offset : new int[] {0, 512, 513, 1028}) {
            long length = 4L * ss;
            long pagesNeeded = (offset + length + GuestMemory.PAGE_SIZE - 1) / GuestMemory.PAGE_SIZE;
            long[] pages = new long[(int) pagesNeeded];
            for (int i = 0; i < pages.length; i++) {
                pages[i] = 40 - 3L * i; // descending, non-contiguous pages
            }
            RequestBuffers out = new RequestBuffers(memory, PagedRange.of(pages, offset, length), false);
            byte[] expected = new byte[(int) length];
            pattern(MemorySegment.ofArray(expected), offset);
            new RequestBuffers(memory, PagedRange.of(pages, offset, length), true).writer()
                    .write(expected, 0, expected.length);
            succeeds(disk.writeVectored(out, 3, false));
            MemorySegment flat = read(disk, 3, 4);
            assertSameBytes(MemorySegment.ofArray(expected), flat, "write from offset " + offset);

            RequestBuffers in = new RequestBuffers(memory, PagedRange.of(pages, offset, length), true);
            in.writer().zero(length);
            succeeds(disk.readVectored(in, 3));
            assertSameBytes(MemorySegment.ofArray(expected), MemorySegment.ofArray(in.reader().readAll()),
                    "read into offset " + offset);
        }
    }

    @Test
    void heapBuffersWork() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        byte[] data = new byte[2 * disk.sectorSize()];
        pattern(MemorySegment.ofArray(data), 99);
        succeeds(disk.writeVectored(RequestBuffers.of(MemorySegment.ofArray(data), false), 5, false));
        byte[] back = new byte[data.length];
        succeeds(disk.readVectored(RequestBuffers.of(MemorySegment.ofArray(back), true), 5));
        assertSameBytes(MemorySegment.ofArray(data), MemorySegment.ofArray(back), "heap round trip");
    }

    @Test
    void aReadIntoBuffersTheDeviceMayNotWriteFailsWithMemoryAccess() {
        failsWith(DiskError.MemoryAccess.class, disk.readVectored(sectors(1, false), 0));
    }

    @Test
    void fuaWritesAndFlushSucceed() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        MemorySegment data = pattern(disk.sectorSize(), 5);
        succeeds(disk.writeVectored(RequestBuffers.of(data, false), 2, true));
        succeeds(disk.syncCache());
        assertSameBytes(data, read(disk, 2, 1), "FUA write");
    }

    @Test
    void unmapDoesWhatTheBehaviourSays() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        MemorySegment data = pattern(16L * disk.sectorSize(), 7);
        write(disk, 16, data);
        succeeds(disk.unmap(16, 16, false));
        succeeds(disk.unmap(disk.sectorCount(), 0, false));
        MemorySegment after = read(disk, 16, 16);
        switch (disk.unmapBehavior()) {
            case ZEROES -> assertTrue(isZero(after), "unmapped sectors must read as zeros");
            case IGNORED -> assertSameBytes(data, after, "an ignored unmap must not change content");
            case UNSPECIFIED -> { } // anything goes
        }
    }

    @Test
    void aReadOnlyDiskRefusesWritesAndUnmaps() {
        assumeTrue(disk.isReadOnly(), "the disk is writable");
        failsWith(DiskError.ReadOnly.class, disk.writeVectored(sectors(1, false), 0, false));
        failsWith(DiskError.ReadOnly.class, disk.unmap(0, 1, false));
    }

    @Test
    void concurrentWritesToDistinctSectorsAllLand() {
        assumeFalse(disk.isReadOnly(), "the disk is read-only");
        int ss = disk.sectorSize();
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        List<MemorySegment> data = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            MemorySegment d = pattern(ss, 1000 + i);
            data.add(d);
            writes.add(disk.writeVectored(RequestBuffers.of(d, false), 32 + i, false));
        }
        writes.forEach(DiskAssertions::succeeds);
        for (int i = 0; i < 32; i++) {
            assertSameBytes(data.get(i), read(disk, 32 + i, 1), "sector " + (32 + i));
        }
    }

    @Test
    void metadataIsSane() {
        int ss = disk.sectorSize();
        assertEquals(0, ss & (ss - 1));
        assertTrue(disk.physicalSectorSize() >= ss);
        assertTrue(disk.optimalUnmapSectors() >= 1);
        assertFalse(disk.diskType().isBlank());
        if (disk.unmapBehavior() == UnmapBehavior.IGNORED && !disk.isReadOnly()) {
            succeeds(disk.unmap(0, 1, false));
        }
    }
}
