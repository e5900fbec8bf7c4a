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

    /** Null for buffers the device may not write. */
    private final SegmentCursor cursor;

    BufferWriter(List<MemorySegment> segments) {
        this.cursor = segments == null ? null : new SegmentCursor(segments);
    }

    /** Bytes not yet written; 0 for buffers the device may not write. */
    public long remaining() {
        return cursor == null ? 0 : cursor.remaining();
    }

    /**
     * Copies all of {@code src} into the next bytes.
     *
     * @throws DiskException with {@link AccessError.ReadOnly} on read-only buffers
     * @throws IndexOutOfBoundsException if fewer bytes remain
     */
    public BufferWriter write(MemorySegment src) {
        writable().walk(src.byteSize(),
                (dst, offset, done, length) -> MemorySegment.copy(src, done, dst, offset, length));
        return this;
    }

    /** Copies {@code length} bytes of {@code src} from {@code offset} into the next bytes. */
    public BufferWriter write(byte[] src, int offset, int length) {
        return write(MemorySegment.ofArray(src).asSlice(offset, length));
    }

    /** Sets the next {@code length} bytes to {@code value}. */
    public BufferWriter fill(byte value, long length) {
        writable().walk(length, (dst, offset, done, n) -> dst.asSlice(offset, n).fill(value));
        return this;
    }

    /**
     * Moves past the next {@code length} bytes without writing them, so that a writer can fill a buffer's parts out
     * of order (a layer that supplies only some sectors of a read).
     *
     * @throws DiskException with {@link AccessError.ReadOnly} on read-only buffers
     * @throws IndexOutOfBoundsException if fewer bytes remain
     * @since 1.1
     */
    public BufferWriter skip(long length) {
        writable().walk(length, (dst, offset, done, n) -> { });
        return this;
    }

    /** Zeroes the next {@code length} bytes. */
    public BufferWriter zero(long length) {
        return fill((byte) 0, length);
    }

    private SegmentCursor writable() {
        if (cursor == null) {
            throw new DiskException(new DiskError.MemoryAccess(new AccessError.ReadOnly()));
        }
        return cursor;
    }
}
