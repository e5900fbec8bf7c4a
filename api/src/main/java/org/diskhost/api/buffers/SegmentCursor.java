package org.diskhost.api.buffers;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** A position in a list of segments, walked front to back by {@link BufferReader} and {@link BufferWriter}. */
final class SegmentCursor {
    private final List<MemorySegment> segments;
    private int index;
    private long inSegment;
    private long remaining;

    /** Receives one piece of a walk: {@code length} bytes at {@code offset} in {@code segment}. */
    @FunctionalInterface
    interface Piece {
        void accept(MemorySegment segment, long offset, long done, long length);
    }

    SegmentCursor(List<MemorySegment> segments) {
        this.segments = segments;
        for (MemorySegment s : segments) {
            remaining += s.byteSize();
        }
    }

    long remaining() {
        return remaining;
    }

    /**
     * Walks the next {@code length} bytes piece by piece, moving past them.
     *
     * @throws IndexOutOfBoundsException if fewer bytes remain
     */
    void walk(long length, Piece piece) {
        if (length < 0 || length > remaining) {
            throw new IndexOutOfBoundsException("moving " + length + " bytes with " + remaining + " remaining");
        }
        long done = 0;
        while (done < length) {
            MemorySegment segment = segments.get(index);
            long take = Math.min(segment.byteSize() - inSegment, length - done);
            piece.accept(segment, inSegment, done, take);
            inSegment += take;
            remaining -= take;
            done += take;
            if (inSegment == segment.byteSize()) {
                index++;
                inSegment = 0;
            }
        }
    }

    /** True when {@code test} holds for every segment not yet walked (with the offset to start at); does not move. */
    boolean allRemaining(java.util.function.BiPredicate<MemorySegment, Long> test) {
        for (int i = index; i < segments.size(); i++) {
            if (!test.test(segments.get(i), i == index ? inSegment : 0L)) {
                return false;
            }
        }
        return true;
    }
}
