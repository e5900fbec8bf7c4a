package org.diskhost.backend.striped;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import org.diskhost.api.buffers.GuestMemory;
import org.diskhost.api.buffers.PagedRange;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.testkit.DiskAssertions;

/** Test helpers: the expected member images computed independently of the disk, and scattered guest buffers. */
final class Stripes {
    private Stripes() {
    }

    /**
     * Deals {@code global} out like cards, one chunk at a time to members 0, 1, ..., n-1, 0, ...: what each member
     * must hold. Written without the disk's arithmetic, as a check on it.
     */
    static byte[][] deal(byte[] global, int members, int chunkBytes) {
        byte[][] out = new byte[members][global.length / members];
        int[] filled = new int[members];
        int member = 0;
        for (int at = 0; at + chunkBytes <= global.length; at += chunkBytes) {
            System.arraycopy(global, at, out[member], filled[member], chunkBytes);
            filled[member] += chunkBytes;
            member = (member + 1) % members;
        }
        for (int m = 0; m < members; m++) {
            out[m] = Arrays.copyOf(out[m], filled[m]);
        }
        return out;
    }

    /**
     * Guest buffers of {@code length} bytes starting {@code offset} bytes into the first page, on pages that are
     * neither contiguous nor ascending, holding {@code content} (for a write) or zeros (for a read).
     */
    static RequestBuffers scattered(int offset, byte[] content, boolean writable) {
        long length = content.length;
        int pagesNeeded = (int) ((offset + length + GuestMemory.PAGE_SIZE - 1) / GuestMemory.PAGE_SIZE);
        GuestMemory memory = GuestMemory.of(DiskAssertions.allocate((2L * pagesNeeded + 1) * GuestMemory.PAGE_SIZE));
        long[] pages = new long[pagesNeeded];
        for (int i = 0; i < pagesNeeded; i++) {
            pages[i] = 2L * (pagesNeeded - i) - 1; // odd pages, descending
        }
        PagedRange range = PagedRange.of(pages, offset, length);
        new RequestBuffers(memory, range, true).writer().write(content, 0, content.length);
        return new RequestBuffers(memory, range, writable);
    }

    static byte[] bytes(RequestBuffers buffers) {
        return buffers.reader().readAll();
    }

    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        DiskAssertions.pattern(MemorySegment.ofArray(b), seed);
        return b;
    }
}
