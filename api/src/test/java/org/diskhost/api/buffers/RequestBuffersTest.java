package org.diskhost.api.buffers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.diskhost.api.AccessError;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.junit.jupiter.api.Test;

class RequestBuffersTest {
    private final GuestMemory memory = GuestMemory.of(Arena.ofAuto().allocate(16 * 4096, 4096));

    private static AccessError accessError(Runnable action) {
        DiskException e = assertThrows(DiskException.class, action::run);
        return ((DiskError.MemoryAccess) e.error()).error();
    }

    @Test
    void rangeCreationFailsWhenItDoesNotFitThePages() {
        assertThrows(IllegalArgumentException.class, () -> PagedRange.of(new long[] {1, 2}, 4096, 4097));
        assertThrows(IllegalArgumentException.class, () -> PagedRange.of(new long[] {1}, -1, 10));
        assertEquals(8192, PagedRange.of(new long[] {1, 2}, 0, 8192).length());
    }

    @Test
    void runsJoinConsecutivePagesOnly() {
        PagedRange range = PagedRange.of(new long[] {3, 4, 9, 10, 2}, 100, 4 * 4096);
        List<long[]> runs = new ArrayList<>();
        range.forEachRun((offset, length) -> runs.add(new long[] {offset, length}));
        assertEquals(3, runs.size());
        assertArrayEquals(new long[] {3 * 4096 + 100, 2 * 4096 - 100}, runs.get(0));
        assertArrayEquals(new long[] {9 * 4096, 2 * 4096}, runs.get(1));
        assertArrayEquals(new long[] {2 * 4096, 100}, runs.get(2));
    }

    @Test
    void linearRangeIsOneRun() {
        PagedRange range = PagedRange.linear(5000, 20000);
        assertEquals(6, range.pageCount()); // pages 1..6 cover bytes 5000..24999
        assertEquals(1, range.page(0));
        List<long[]> runs = new ArrayList<>();
        range.forEachRun((offset, length) -> runs.add(new long[] {offset, length}));
        assertEquals(1, runs.size());
        assertArrayEquals(new long[] {5000, 20000}, runs.get(0));
    }

    @Test
    void alignmentLooksAtFirstPageOffsetLengthAndPageSize() {
        RequestBuffers aligned = RequestBuffers.linear(memory, 4096, 8192, true);
        assertTrue(aligned.isAligned(512));
        assertTrue(aligned.isAligned(4096));
        assertFalse(aligned.isAligned(8192), "nothing above a page is aligned");
        RequestBuffers offset512 = RequestBuffers.linear(memory, 512, 4096, true);
        assertTrue(offset512.isAligned(512));
        assertFalse(offset512.isAligned(1024));
        RequestBuffers offset513 = RequestBuffers.linear(memory, 513, 4096, true);
        assertFalse(offset513.isAligned(512));
        assertTrue(offset513.isAligned(1));
        RequestBuffers shortLength = RequestBuffers.linear(memory, 0, 4000, true);
        assertFalse(shortLength.isAligned(512));
        assertThrows(IllegalArgumentException.class, () -> aligned.isAligned(3));
        assertThrows(IllegalArgumentException.class, () -> aligned.isAligned(0));
    }

    @Test
    void writerAndReaderCrossScatteredPages() {
        RequestBuffers buffers = new RequestBuffers(memory, PagedRange.of(new long[] {7, 2, 11}, 4000, 5000), true);
        byte[] data = new byte[5000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        BufferWriter writer = buffers.writer();
        assertEquals(5000, writer.remaining());
        writer.write(data, 0, 5000);
        assertEquals(0, writer.remaining());
        // The bytes landed where the page list says.
        assertEquals(data[0], memory.segment().get(ValueLayout.JAVA_BYTE, 7 * 4096 + 4000));
        assertEquals(data[96], memory.segment().get(ValueLayout.JAVA_BYTE, 2 * 4096));
        assertEquals(data[96 + 4096], memory.segment().get(ValueLayout.JAVA_BYTE, 11 * 4096));
        assertArrayEquals(data, buffers.reader().readAll());
        BufferReader reader = buffers.reader().skip(4999);
        assertEquals(1, reader.remaining());
        assertThrows(IndexOutOfBoundsException.class, () -> buffers.writer().fill((byte) 1, 5001));
    }

    @Test
    void nonWritableBuffersRefuseWritesAndHaveNoRoom() {
        RequestBuffers buffers = RequestBuffers.linear(memory, 0, 4096, false);
        BufferWriter writer = buffers.writer();
        assertEquals(0, writer.remaining());
        assertInstanceOf(AccessError.ReadOnly.class, accessError(() -> writer.zero(1)));
        assertInstanceOf(AccessError.ReadOnly.class, accessError(() -> writer.write(MemorySegment.ofArray(new byte[1]))));
        assertInstanceOf(AccessError.ReadOnly.class, accessError(() -> buffers.segments(true)));
        assertEquals(4096, buffers.reader().remaining(), "reading is always allowed");
        assertEquals(1, buffers.segments(false).size());
    }

    @Test
    void pagesOutsideGuestMemoryAreOutOfRange() {
        RequestBuffers buffers = new RequestBuffers(memory, PagedRange.ofPages(15, 16), true);
        AccessError error = accessError(buffers::writer);
        // Pages 15 and 16 are one contiguous run, and the run reaches past the 16 pages of guest memory.
        assertEquals(new AccessError.OutOfRange(15 * 4096, 8192), error);
    }

    @Test
    void subrangeKeepsMemoryAndFlag() {
        RequestBuffers buffers = RequestBuffers.linear(memory, 0, 3 * 4096, true);
        RequestBuffers sub = buffers.subrange(4096 + 512, 1024);
        assertEquals(1024, sub.length());
        assertTrue(sub.isWritable());
        sub.writer().fill((byte) 9, 1024);
        assertEquals(9, memory.segment().get(ValueLayout.JAVA_BYTE, 4096 + 512));
        assertEquals(0, memory.segment().get(ValueLayout.JAVA_BYTE, 4096 + 511));
        assertThrows(IndexOutOfBoundsException.class, () -> buffers.subrange(2 * 4096, 4097));
        assertThrows(IndexOutOfBoundsException.class, () -> buffers.subrange(-1, 1));
    }

    @Test
    void segmentsAreZeroCopyViewsOfGuestMemory() {
        RequestBuffers buffers = new RequestBuffers(memory, PagedRange.ofPages(4, 5, 8), true);
        List<MemorySegment> segments = buffers.segments(true);
        assertEquals(2, segments.size());
        assertEquals(memory.segment().address() + 4 * 4096, segments.get(0).address());
        assertEquals(8192, segments.get(0).byteSize());
        segments.get(1).fill((byte) 3);
        assertEquals(3, memory.segment().get(ValueLayout.JAVA_BYTE, 8 * 4096 + 4095));
    }

    @Test
    void bounceBuffersArePageAlignedZeroedAndExact() {
        try (BounceBuffer bounce = BounceBuffer.allocate(10_000)) {
            assertEquals(10_000, bounce.segment().byteSize());
            assertEquals(0, bounce.segment().address() % 4096);
            for (long i = 0; i < 10_000; i++) {
                assertEquals(0, bounce.segment().get(ValueLayout.JAVA_BYTE, i));
            }
            RequestBuffers buffers = bounce.requestBuffers(true);
            assertEquals(10_000, buffers.length());
            assertTrue(buffers.isAligned(16));
        }
    }

    @Test
    void remainingIsZeroDetectsZeroBuffers() {
        RequestBuffers buffers = RequestBuffers.linear(memory, 12 * 4096, 8192, true);
        assertTrue(buffers.reader().remainingIsZero());
        memory.segment().set(ValueLayout.JAVA_BYTE, 13 * 4096 + 17, (byte) 1);
        assertFalse(buffers.reader().remainingIsZero());
        assertTrue(buffers.reader().skip(4096 + 18).remainingIsZero());
    }

    @Test
    void aWriterCanSkipAndFillPartsOutOfOrder() {
        RequestBuffers buffers = RequestBuffers.of(Arena.ofAuto().allocate(8), true);
        buffers.writer().fill((byte) 1, 8);
        buffers.writer().skip(2).fill((byte) 7, 3).skip(3);
        assertArrayEquals(new byte[] {1, 1, 7, 7, 7, 1, 1, 1}, buffers.reader().readAll());
        assertThrows(IndexOutOfBoundsException.class, () -> buffers.writer().skip(9));
        assertInstanceOf(AccessError.ReadOnly.class,
                accessError(() -> RequestBuffers.of(Arena.ofAuto().allocate(8), false).writer().skip(1)));
    }
}
