package org.diskhost.testkit;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.WriteNoOverwrite;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite every layer passes: the reference's layer range suite (write, no-overwrite write and unmap
 * with both values of {@code nextIsZero} refused outside the layer, and for unrepresentable ranges) and the layer
 * data contract (a read supplies and marks exactly what the layer holds, writes make sectors present, a no-overwrite
 * write keeps what is there, unmap with and without {@code nextIsZero}, zero-count unmaps).
 *
 * <p>A layer test extends this class and implements {@link #openLayer()}, which returns an attached layer of at
 * least {@value DiskConformance#MIN_SECTORS} sectors; use {@code @Nested} subclasses for several shapes. The writing
 * tests are skipped for a logically read-only layer. The layer is closed after each test.
 */
public abstract class LayerConformance {
    private static final long U64_MAX = -1L;

    protected LayerIo layer;

    /** Opens a fresh, attached layer of at least {@value DiskConformance#MIN_SECTORS} sectors for one test. */
    protected abstract LayerIo openLayer() throws Exception;

    @BeforeEach
    final void open() throws Exception {
        layer = openLayer();
        assertTrue(layer.sectorCount() >= DiskConformance.MIN_SECTORS, "the suite needs at least "
                + DiskConformance.MIN_SECTORS + " sectors, got " + layer.sectorCount());
    }

    @AfterEach
    final void close() {
        if (layer != null) {
            layer.close();
        }
    }

    private int ss() {
        return layer.sectorSize();
    }

    private RequestBuffers sectors(long count, boolean writable) {
        return RequestBuffers.of(allocate(count * ss()), writable);
    }

    /** Reads {@code count} sectors from {@code sector} into a zeroed buffer; returns the marks. */
    protected RecordingMarker read(long sector, long count, MemorySegment into) {
        RecordingMarker marker = new RecordingMarker(sector, count);
        succeeds(layer.read(RequestBuffers.of(into, true), sector, marker));
        return marker;
    }

    protected void write(long sector, MemorySegment data) {
        succeeds(layer.write(RequestBuffers.of(data, false), sector, false));
    }

    private void assertIllegal(long sector, long count) {
        long safeCount = Math.min(count, 2);
        failsWith(DiskError.IllegalBlock.class,
                layer.read(sectors(safeCount, true), sector, new RecordingMarker(sector, safeCount)));
        if (!layer.isLogicallyReadOnly()) {
            failsWith(DiskError.IllegalBlock.class, layer.write(sectors(safeCount, false), sector, false));
            failsWith(DiskError.IllegalBlock.class, layer.unmap(sector, count, false, true));
            failsWith(DiskError.IllegalBlock.class, layer.unmap(sector, count, false, false));
        }
        layer.writeNoOverwrite().ifPresent(w ->
                failsWith(DiskError.IllegalBlock.class, w.write(sectors(safeCount, false), sector)));
    }

    // ---- the reference's layer range suite ----

    @Test
    void unrepresentableRangesAreIllegal() {
        long max = Long.MAX_VALUE / ss();
        assertIllegal(U64_MAX, 1);
        assertIllegal(U64_MAX - 1, 2);
        assertIllegal(max, 1);
        assertIllegal(max - 1, 2);
        assertIllegal(1L << (64 - Integer.numberOfTrailingZeros(ss())), 1);
    }

    @Test
    void rangesOutsideTheLayerAreIllegal() {
        long n = layer.sectorCount();
        assertIllegal(n, 1);
        assertIllegal(n - 1, 2);
        assertIllegal(Long.MAX_VALUE / ss() - 1, 1);
    }

    @Test
    void theLastSectorCanBeWrittenAndReadBack() {
        assumeFalse(layer.isLogicallyReadOnly());
        long last = layer.sectorCount() - 1;
        MemorySegment data = pattern(ss(), last);
        write(last, data);
        MemorySegment back = allocate(ss());
        assertTrue(read(last, 1, back).allMarked(), "a written sector is present");
        assertSameBytes(data, back, "last sector");
    }

    @Test
    void aZeroLengthReadSucceeds() {
        succeeds(layer.read(sectors(0, true), 0, new RecordingMarker(0, 0)));
    }

    @Test
    void zeroCountUnmapsChangeNothing() {
        assumeFalse(layer.isLogicallyReadOnly());
        MemorySegment data = pattern(ss(), 3);
        write(5, data);
        succeeds(layer.unmap(5, 0, false, true));
        succeeds(layer.unmap(5, 0, false, false));
        succeeds(layer.unmap(layer.sectorCount(), 0, false, true));
        MemorySegment back = allocate(ss());
        assertTrue(read(5, 1, back).allMarked());
        assertSameBytes(data, back, "after zero-count unmaps");
    }

    // ---- the data contract ----

    @Test
    void writtenSectorsArePresentAndUnmarkedBytesAreUntouched() {
        assumeFalse(layer.isLogicallyReadOnly());
        MemorySegment data = pattern(4L * ss(), 11);
        write(8, data);
        MemorySegment back = allocate(4L * ss());
        RecordingMarker marks = read(8, 4, back);
        assertTrue(marks.allMarked(), "every written sector is marked");
        assertSameBytes(data, back, "4 sectors at 8");

        MemorySegment wide = allocate(8L * ss()).fill((byte) 0x5A);
        RecordingMarker wideMarks = read(6, 8, wide);
        for (int i = 0; i < 8; i++) {
            MemorySegment sector = wide.asSlice((long) i * ss(), ss());
            if (!wideMarks.isMarked(6 + i)) {
                for (long b = 0; b < ss(); b++) {
                    assertEquals((byte) 0x5A, sector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, b),
                            "the layer wrote into sector " + (6 + i) + ", which it did not mark");
                }
            }
        }
        for (int i = 2; i < 6; i++) {
            assertTrue(wideMarks.isMarked(6 + i));
        }
        assertSameBytes(data, wide.asSlice(2L * ss(), 4L * ss()), "written sectors inside a wider read");
    }

    @Test
    void aNoOverwriteWriteKeepsWhatIsPresentAndFillsTheRest() {
        assumeTrue(layer.writeNoOverwrite().isPresent());
        WriteNoOverwrite cache = layer.writeNoOverwrite().orElseThrow();
        MemorySegment fill = pattern(4L * ss(), 21);
        boolean canWrite = !layer.isLogicallyReadOnly();
        MemorySegment held = pattern(ss(), 22);
        if (canWrite) {
            write(41, held);
        }
        MemorySegment before = allocate(4L * ss());
        RecordingMarker beforeMarks = read(40, 4, before);
        succeeds(cache.write(RequestBuffers.of(fill, false), 40));
        MemorySegment after = allocate(4L * ss());
        assertTrue(read(40, 4, after).allMarked(), "a no-overwrite write makes every sector present");
        for (int i = 0; i < 4; i++) {
            MemorySegment expected = beforeMarks.isMarked(40 + i) ? before.asSlice((long) i * ss(), ss())
                    : fill.asSlice((long) i * ss(), ss());
            assertSameBytes(expected, after.asSlice((long) i * ss(), ss()), "sector " + (40 + i));
        }
        if (canWrite) {
            assertSameBytes(held, after.asSlice(ss(), ss()), "the sector written before is kept");
        }
    }

    @Test
    void unmapWithNothingBelowDropsOrZeroes() {
        assumeFalse(layer.isLogicallyReadOnly());
        MemorySegment data = pattern(8L * ss(), 31);
        write(16, data);
        succeeds(layer.unmap(16, 8, false, true));
        MemorySegment after = allocate(8L * ss());
        RecordingMarker marks = read(16, 8, after);
        for (int i = 0; i < 8; i++) {
            MemorySegment sector = after.asSlice((long) i * ss(), ss());
            switch (layer.unmapBehavior()) {
                case ZEROES -> assertTrue(!marks.isMarked(16 + i) || isZero(sector),
                        "sector " + (16 + i) + " reads as zeros or shows the zeros below");
                case IGNORED -> assertSameBytes(data.asSlice((long) i * ss(), ss()), sector, "ignored unmap");
                case UNSPECIFIED -> { } // anything goes
            }
        }
    }

    @Test
    void unmapOverNonZeroLayersBelowNeverShowsThemUnlessUnchanged() {
        assumeFalse(layer.isLogicallyReadOnly());
        MemorySegment data = pattern(8L * ss(), 41);
        write(24, data);
        succeeds(layer.unmap(24, 8, false, false));
        MemorySegment after = allocate(8L * ss());
        RecordingMarker marks = read(24, 8, after);
        for (int i = 0; i < 8; i++) {
            // Without nextIsZero the layer must not expose the layers below: the sector stays present, either
            // unchanged (an unmap it could not represent) or as whatever its unmap behaviour says.
            assertTrue(marks.isMarked(24 + i), "sector " + (24 + i) + " must stay present");
            MemorySegment sector = after.asSlice((long) i * ss(), ss());
            if (layer.unmapBehavior() == UnmapBehavior.ZEROES) {
                assertTrue(isZero(sector), "sector " + (24 + i) + " reads as zeros");
            } else if (layer.unmapBehavior() == UnmapBehavior.IGNORED) {
                assertSameBytes(data.asSlice((long) i * ss(), ss()), sector, "ignored unmap");
            }
        }
    }

    @Test
    void concurrentWritesToDistinctSectorsAllLand() {
        assumeFalse(layer.isLogicallyReadOnly());
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        List<MemorySegment> data = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            MemorySegment d = pattern(ss(), 100 + i);
            data.add(d);
            writes.add(layer.write(RequestBuffers.of(d, false), 48 + i, false));
        }
        writes.forEach(DiskAssertions::succeeds);
        for (int i = 0; i < 16; i++) {
            MemorySegment back = allocate(ss());
            assertTrue(read(48 + i, 1, back).allMarked());
            assertSameBytes(data.get(i), back, "sector " + (48 + i));
        }
    }

    @Test
    void allocationDescribesAPrefixAndWrittenSectorsAreHeld() {
        long n = layer.sectorCount();
        List<AllocationExtent> all = succeeds(layer.allocation(0, n));
        assertFalse(all.isEmpty(), "a non-empty range gets at least one extent");
        assertTrue(all.stream().mapToLong(AllocationExtent::sectorCount).sum() <= n, "at most the range");
        assertEquals(List.of(), succeeds(layer.allocation(n, 0)));
        failsWith(DiskError.IllegalBlock.class, layer.allocation(n, 1));
        failsWith(DiskError.IllegalBlock.class, layer.allocation(U64_MAX, 1));
        assumeFalse(layer.isLogicallyReadOnly());
        write(12, pattern(2L * ss(), 51));
        List<AllocationExtent> written = succeeds(layer.allocation(12, 2));
        assertEquals(Allocation.DATA, written.getFirst().allocation(), "a written sector holds data: " + written);
    }

    @Test
    void aLogicallyReadOnlyLayerRefusesWrites() {
        assumeTrue(layer.isLogicallyReadOnly());
        failsWith(DiskError.ReadOnly.class, layer.write(sectors(1, false), 0, false));
    }

    @Test
    void metadataIsSane() {
        int ss = ss();
        assertTrue(ss >= 512 && Integer.bitCount(ss) == 1);
        assertTrue(layer.physicalSectorSize() >= ss && Integer.bitCount(layer.physicalSectorSize()) == 1);
        assertTrue(layer.optimalUnmapSectors() >= 1);
        assertFalse(layer.layerType().isBlank());
        succeeds(layer.syncCache());
    }
}
