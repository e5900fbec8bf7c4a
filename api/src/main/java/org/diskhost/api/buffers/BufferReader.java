package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** Reads a request's buffers sequentially, from the first byte on. Not thread-safe. */
public final class BufferReader {
    private final SegmentCursor cursor;

    BufferReader(List<MemorySegment> segments) {
        this.cursor = new SegmentCursor(segments);
    }

    /** Bytes not yet read. */
    public long remaining() {
        return cursor.remaining();
    }

    /**
     * Copies the next {@code dst.byteSize()} bytes into {@code dst}.
     *
     * @throws IndexOutOfBoundsException if fewer bytes remain
     */
    public BufferReader read(MemorySegment dst) {
        cursor.walk(dst.byteSize(), (src, offset, done, length) -> MemorySegment.copy(src, offset, dst, done, length));
        return this;
    }

    /** Copies the next {@code length} bytes into {@code dst} at {@code offset}. */
    public BufferReader read(byte[] dst, int offset, int length) {
        return read(MemorySegment.ofArray(dst).asSlice(offset, length));
    }

    /** Reads all remaining bytes into a new array. */
    public byte[] readAll() {
        byte[] out = new byte[Math.toIntExact(cursor.remaining())];
        read(MemorySegment.ofArray(out));
        return out;
    }

    /** Skips {@code length} bytes. */
    public BufferReader skip(long length) {
        cursor.walk(length, (src, offset, done, n) -> { });
        return this;
    }

    /** True when every remaining byte is zero; does not move. */
    public boolean remainingIsZero() {
        return cursor.allRemaining((segment, from) -> {
            for (long p = from; p < segment.byteSize(); p++) {
                if (segment.get(ValueLayout.JAVA_BYTE, p) != 0) {
                    return false;
                }
            }
            return true;
        });
    }
}
