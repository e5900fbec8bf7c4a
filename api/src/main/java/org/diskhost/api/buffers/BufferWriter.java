package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.diskhost.api.AccessError;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;

/**
 * Writes a request's buffers sequentially, from the first byte on. Not thread-safe. A writer of buffers the device
 * may not write has no room and refuses every write with {@link AccessError.ReadOnly}.
 */
public final class BufferWriter {
    static final BufferWriter READ_ONLY = new BufferWriter(null);

    private final List<MemorySegment> segments;
    private int index;
    private long inSegment;
    private long remaining;

    BufferWriter(List<MemorySegment> segments) {
        this.segments = segments;
        if (segments != null) {
            for (MemorySegment s : segments) {
                remaining += s.byteSize();
            }
        }
    }

    /** Bytes not yet written; 0 for buffers the device may not write. */
    public long remaining() {
        return remaining;
    }

    /**
     * Copies all of {@code src} into the next bytes.
     *
     * @throws DiskException with {@link AccessError.ReadOnly} on read-only buffers
     * @throws IndexOutOfBoundsException if fewer bytes remain
     */
    public BufferWriter write(MemorySegment src) {
        long length = src.byteSize();
        checkRoom(length);
        long done = 0;
        while (done < length) {
            MemorySegment dst = segments.get(index);
            long take = Math.min(dst.byteSize() - inSegment, length - done);
            MemorySegment.copy(src, done, dst, inSegment, take);
            advance(take);
            done += take;
        }
        return this;
    }

    /** Copies {@code length} bytes of {@code src} from {@code offset} into the next bytes. */
    public BufferWriter write(byte[] src, int offset, int length) {
        return write(MemorySegment.ofArray(src).asSlice(offset, length));
    }

    /** Sets the next {@code length} bytes to {@code value}. */
    public BufferWriter fill(byte value, long length) {
        checkRoom(length);
        long done = 0;
        while (done < length) {
            MemorySegment dst = segments.get(index);
            long take = Math.min(dst.byteSize() - inSegment, length - done);
            dst.asSlice(inSegment, take).fill(value);
            advance(take);
            done += take;
        }
        return this;
    }

    /** Zeroes the next {@code length} bytes. */
    public BufferWriter zero(long length) {
        return fill((byte) 0, length);
    }

    private void checkRoom(long length) {
        if (segments == null) {
            throw new DiskException(new DiskError.MemoryAccess(new AccessError.ReadOnly()));
        }
        if (length < 0 || length > remaining) {
            throw new IndexOutOfBoundsException("writing " + length + " bytes with " + remaining + " remaining");
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
