package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

import org.diskhost.api.AccessError;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;

/**
 * The memory requests transfer to and from, addressed by guest-physical byte offset and divided into
 * {@value #PAGE_SIZE}-byte pages. It is a view of one {@link MemorySegment}: page {@code n} is the bytes
 * {@code [n * PAGE_SIZE, (n + 1) * PAGE_SIZE)} of the segment.
 */
public final class GuestMemory {
    /** The guest page size in bytes. */
    public static final int PAGE_SIZE = 4096;
    public static final int PAGE_SHIFT = 12;

    private final MemorySegment memory;

    private GuestMemory(MemorySegment memory) {
        this.memory = memory;
    }

    /** Guest memory backed by {@code memory}; guest-physical offset 0 is the segment's first byte. */
    public static GuestMemory of(MemorySegment memory) {
        return new GuestMemory(Objects.requireNonNull(memory, "memory"));
    }

    /** Guest memory size in bytes. */
    public long size() {
        return memory.byteSize();
    }

    /** The whole backing segment. */
    public MemorySegment segment() {
        return memory;
    }

    /**
     * The segment of {@code length} bytes at guest-physical {@code offset}.
     *
     * @throws DiskException with {@link AccessError.OutOfRange} if the bytes lie outside guest memory
     */
    public MemorySegment slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset > memory.byteSize() - length) {
            throw new DiskException(new DiskError.MemoryAccess(new AccessError.OutOfRange(offset, length)));
        }
        try {
            return memory.asSlice(offset, length);
        } catch (IllegalStateException e) { // the memory's arena was closed
            throw new DiskException(new DiskError.MemoryAccess(new AccessError.Memory(e)));
        }
    }
}
