package org.diskhost.api.buffers;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Private, zero-filled native memory with page-aligned start, for I/O that cannot use the guest's buffers in place
 * (unaligned for O_DIRECT, or data that must not be visible to the guest while it is transformed). On a read, do
 * the I/O into the bounce buffer and copy it out with a {@link BufferWriter}; on a write, copy in with a
 * {@link BufferReader} first. Close it when the I/O is done.
 */
public final class BounceBuffer implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment segment;

    private BounceBuffer(long size) {
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(Math.max(size, 1), GuestMemory.PAGE_SIZE).asSlice(0, size);
    }

    /** A zeroed buffer of exactly {@code size} usable bytes, starting on a page boundary. */
    public static BounceBuffer allocate(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        return new BounceBuffer(size);
    }

    /** The memory. */
    public MemorySegment segment() {
        return segment;
    }

    /** Request buffers over the whole bounce buffer, to pass to a disk below. */
    public RequestBuffers requestBuffers(boolean writable) {
        return RequestBuffers.of(segment, writable);
    }

    /** Frees the memory; using it afterwards fails. */
    @Override
    public void close() {
        arena.close();
    }
}
