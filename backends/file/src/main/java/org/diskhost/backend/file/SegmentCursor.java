package org.diskhost.backend.file;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * How far a transfer over a list of segments has come, so that a short {@code preadv}/{@code pwritev2} or io_uring
 * transfer is continued with the rest. Not thread-safe: one transfer owns it at a time.
 */
final class SegmentCursor {
    private final List<MemorySegment> segments;
    private int first; // first segment not yet complete
    private long into; // bytes of it already done

    SegmentCursor(List<MemorySegment> segments) {
        this.segments = segments;
        skipEmpty();
    }

    /** Whether every byte has been transferred. */
    boolean done() {
        return first >= segments.size();
    }

    /** Up to {@code max} segments still to transfer, in order, the first without the bytes already done. */
    List<MemorySegment> next(int max) {
        int count = Math.min(segments.size() - first, max);
        List<MemorySegment> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            MemorySegment s = segments.get(first + i);
            out.add(i == 0 && into > 0 ? s.asSlice(into) : s);
        }
        return out;
    }

    /** Records that {@code n} more bytes were transferred. */
    void advance(long n) {
        long left = n;
        while (left > 0) {
            long rest = segments.get(first).byteSize() - into;
            if (left >= rest) {
                left -= rest;
                first++;
                into = 0;
            } else {
                into += left;
                left = 0;
            }
        }
        skipEmpty();
    }

    private void skipEmpty() {
        while (first < segments.size() && segments.get(first).byteSize() == 0) {
            first++;
        }
    }
}
