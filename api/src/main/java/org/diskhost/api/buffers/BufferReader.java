package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/** Reads a request's buffers sequentially, from the first byte on. Not thread-safe. */
public final class BufferReader {
    private final List<MemorySegment> segments;
    private int index;
    private long inSegment;
    private long remaining;

    BufferReader(List<MemorySegment> segments) {
        this.segments = segments;
        for (MemorySegment s : segments) {
            remaining += s.byteSize();
        }
    }

    /** Bytes not yet read. */
    public long remaining() {
        return remaining;
    }

    /**
     * Copies the next {@code dst.byteSize()} bytes into {@code dst}.
     *
     * @throws IndexOutOfBoundsException if fewer bytes remain
     */
    public BufferReader read(MemorySegment dst) {
        long length = dst.byteSize();
        checkRemaining(length);
        long done = 0;
        while (done < length) {
            MemorySegment src = segments.get(index);
            long take = Math.min(src.byteSize() - inSegment, length - done);
            MemorySegment.copy(src, inSegment, dst, done, take);
            advance(take);
            done += take;
        }
        return this;
    }

    /** Copies the next {@code length} bytes into {@code dst} at {@code offset}. */
    public BufferReader read(byte[] dst, int offset, int length) {
        return read(MemorySegment.ofArray(dst).asSlice(offset, length));
    }

    /** Reads all remaining bytes into a new array. */
    public byte[] readAll() {
        byte[] out = new byte[Math.toIntExact(remaining)];
        read(MemorySegment.ofArray(out));
        return out;
    }

    /** Skips {@code length} bytes. */
    public BufferReader skip(long length) {
        checkRemaining(length);
        long done = 0;
        while (done < length) {
            long take = Math.min(segments.get(index).byteSize() - inSegment, length - done);
            advance(take);
            done += take;
        }
        return this;
    }

    /** True when every remaining byte is zero; does not move. */
    public boolean remainingIsZero() {
        for (int i = index; i < segments.size(); i++) {
            MemorySegment s = segments.get(i);
            long from = i == index ? inSegment : 0;
            for (long p = from; p < s.byteSize(); p++) {
                if (s.get(ValueLayout.JAVA_BYTE, p) != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private void checkRemaining(long length) {
        if (length < 0 || length > remaining) {
            throw new IndexOutOfBoundsException("reading " + length + " bytes with " + remaining + " remaining");
        }
    }

    private void advance(long take) {
        inSegment += take;
        remaining -= take;
        if (index < segments.size() && inSegment == segments.get(index).byteSize()) {
            index++;
            inSegment = 0;
        }
    }
}
