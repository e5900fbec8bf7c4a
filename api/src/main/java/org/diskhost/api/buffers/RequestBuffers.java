package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.diskhost.api.AccessError;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;

/**
 * The guest memory of one disk request: a {@link PagedRange} of a {@link GuestMemory}, and whether the device may
 * write into it. Immutable; the memory must stay alive until the request completes.
 *
 * <p>The write flag is from the device's side: {@link #isWritable()} is true for the buffers of a disk <em>read</em>
 * (the data lands in guest memory) and false for the buffers of a disk <em>write</em>.
 */
public final class RequestBuffers {
    private final GuestMemory memory;
    private final PagedRange range;
    private final boolean writable;

    public RequestBuffers(GuestMemory memory, PagedRange range, boolean writable) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.range = Objects.requireNonNull(range, "range");
        this.writable = writable;
    }

    /** The whole of {@code segment}, as guest memory of its own. */
    public static RequestBuffers of(MemorySegment segment, boolean writable) {
        return new RequestBuffers(GuestMemory.of(segment), PagedRange.linear(0, segment.byteSize()), writable);
    }

    /** The contiguous span {@code [guestOffset, guestOffset + length)} of {@code memory}. */
    public static RequestBuffers linear(GuestMemory memory, long guestOffset, long length, boolean writable) {
        return new RequestBuffers(memory, PagedRange.linear(guestOffset, length), writable);
    }

    /** The length in bytes. */
    public long length() {
        return range.length();
    }

    public boolean isEmpty() {
        return range.length() == 0;
    }

    /** True when the device may write into this memory, that is, for the buffers of a disk read. */
    public boolean isWritable() {
        return writable;
    }

    public GuestMemory memory() {
        return memory;
    }

    public PagedRange range() {
        return range;
    }

    /**
     * True when the offset into the first page and the total length are multiples of {@code alignment}, and
     * {@code alignment} divides the page size (so anything above {@value GuestMemory#PAGE_SIZE} is false). Every
     * contiguous run of memory then starts and ends at a multiple of {@code alignment}, as O_DIRECT requires.
     *
     * @throws IllegalArgumentException if {@code alignment} is not a power of two
     */
    public boolean isAligned(long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        long mask = alignment - 1;
        return alignment <= GuestMemory.PAGE_SIZE && (range.offset() & mask) == 0 && (range.length() & mask) == 0;
    }

    /** A sequential reader from the start of the buffers; always allowed. */
    public BufferReader reader() {
        return new BufferReader(segments());
    }

    /**
     * A sequential writer from the start of the buffers. On buffers that are not {@linkplain #isWritable()
     * writable} the writer has no room ({@link BufferWriter#remaining()} is 0) and every write fails with
     * {@link AccessError.ReadOnly}.
     */
    public BufferWriter writer() {
        return writable ? new BufferWriter(segments()) : BufferWriter.READ_ONLY;
    }

    /**
     * The memory as host segments, one per contiguous run, for zero-copy I/O (an iovec list).
     *
     * @param forWrite whether the caller will write into the segments
     * @throws DiskException with {@link AccessError.ReadOnly} when {@code forWrite} and the buffers are not
     *         writable, or {@link AccessError.OutOfRange} when a run lies outside guest memory
     */
    public List<MemorySegment> segments(boolean forWrite) {
        if (forWrite && !writable) {
            throw new DiskException(new DiskError.MemoryAccess(new AccessError.ReadOnly()));
        }
        return segments();
    }

    private List<MemorySegment> segments() {
        List<MemorySegment> out = new ArrayList<>(2);
        range.forEachRun((offset, length) -> out.add(memory.slice(offset, length)));
        return out;
    }

    /**
     * The buffers' bytes {@code [offset, offset + length)}: same memory, same write flag.
     *
     * @throws IndexOutOfBoundsException if the subrange is not inside the buffers
     */
    public RequestBuffers subrange(long offset, long length) {
        return new RequestBuffers(memory, range.subrange(offset, length), writable);
    }

    @Override
    public String toString() {
        return "RequestBuffers[" + range + (writable ? ", writable]" : ", read-only]");
    }
}
