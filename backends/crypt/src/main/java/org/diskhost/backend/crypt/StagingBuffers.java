package org.diskhost.backend.crypt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.diskhost.api.buffers.GuestMemory;

/**
 * Native memory that holds a write's ciphertext until the disk below has written it. Buffers of up to
 * {@link #SLOT_BYTES} are pooled, so the usual request allocates nothing; a larger one gets memory of its own, which
 * the garbage collector frees. The pool keeps at most {@value #POOLED} buffers (4 MiB), as many as writes were ever in
 * flight at once. Memory is page-aligned, so a file disk with O_DIRECT can use it as it is.
 */
final class StagingBuffers {
    /** The size of a pooled buffer: covers the usual request sizes. */
    static final long SLOT_BYTES = 128 * 1024;
    /** Enough for the queue depths of NBD and NVMe frontends; more concurrent writes allocate. */
    private static final int POOLED = 32;

    private final SlotPool<MemorySegment> pool = new SlotPool<>(POOLED);

    /**
     * A buffer of at least {@code length} bytes, owned by the caller until it is {@linkplain #give given back}.
     * Use {@code buffer.asSlice(0, length)}.
     */
    MemorySegment take(long length) {
        if (length > SLOT_BYTES) {
            return allocate(length);
        }
        MemorySegment buffer = pool.take();
        return buffer != null ? buffer : allocate(SLOT_BYTES);
    }

    /** Gives a buffer from {@link #take} back once the disk below is done with it. */
    void give(MemorySegment buffer) {
        if (buffer.byteSize() == SLOT_BYTES) {
            pool.give(buffer);
        }
    }

    /** Drops the pooled buffers. */
    void clear() {
        pool.clear();
    }

    private static MemorySegment allocate(long length) {
        // An automatic arena: freeing needs no close, which for a shared arena would cost a thread handshake.
        return Arena.ofAuto().allocate(length, GuestMemory.PAGE_SIZE);
    }
}
