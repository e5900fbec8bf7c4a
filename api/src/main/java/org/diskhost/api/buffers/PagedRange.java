package org.diskhost.api.buffers;

import java.util.Arrays;

/**
 * A byte range over a list of guest pages: {@code length} bytes starting {@code offset} bytes into the
 * concatenation of the pages. Only the first page may be entered mid-page and only the last may end early; every
 * page in between is used whole. Immutable.
 */
public final class PagedRange {
    private static final long[] NO_PAGES = {};

    /** The page numbers, or null when the pages are consecutive from {@link #firstPage}. */
    private final long[] pages;
    private final long firstPage;
    private final int pageCount;
    private final long offset;
    private final long length;

    private PagedRange(long[] pages, long firstPage, int pageCount, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > (long) pageCount * GuestMemory.PAGE_SIZE) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") does not fit in " + pageCount
                    + " pages");
        }
        this.pages = pages;
        this.firstPage = firstPage;
        this.pageCount = pageCount;
        this.offset = offset;
        this.length = length;
    }

    /**
     * {@code length} bytes starting {@code offset} bytes into {@code pages}.
     *
     * @throws IllegalArgumentException if the range does not fit in the pages
     */
    public static PagedRange of(long[] pages, long offset, long length) {
        return new PagedRange(pages.clone(), 0, pages.length, offset, length);
    }

    /** Whole pages. */
    public static PagedRange ofPages(long... pages) {
        return of(pages, 0, (long) pages.length * GuestMemory.PAGE_SIZE);
    }

    /** The guest-physically contiguous span {@code [guestOffset, guestOffset + length)}. */
    public static PagedRange linear(long guestOffset, long length) {
        if (guestOffset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length");
        }
        if (length == 0) {
            return new PagedRange(NO_PAGES, 0, 0, 0, 0);
        }
        long first = guestOffset >>> GuestMemory.PAGE_SHIFT;
        long last = (guestOffset + length - 1) >>> GuestMemory.PAGE_SHIFT;
        return new PagedRange(null, first, Math.toIntExact(last - first + 1),
                guestOffset & (GuestMemory.PAGE_SIZE - 1), length);
    }

    /** The byte length. */
    public long length() {
        return length;
    }

    /** The byte offset of the range into its page list (may exceed a page after {@link #subrange}). */
    public long offset() {
        return offset;
    }

    /** The number of pages in the list. */
    public int pageCount() {
        return pageCount;
    }

    /** The guest page number at {@code index} in the list. */
    public long page(int index) {
        if (index < 0 || index >= pageCount) {
            throw new IndexOutOfBoundsException(index);
        }
        return pages == null ? firstPage + index : pages[index];
    }

    /**
     * A narrower range of {@code length} bytes starting {@code offset} bytes into this one, over the same pages.
     *
     * @throws IndexOutOfBoundsException if it does not lie inside this range
     */
    public PagedRange subrange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > this.length - length) {
            throw new IndexOutOfBoundsException("subrange [" + offset + ", +" + length + ") of a " + this.length
                    + "-byte range");
        }
        return new PagedRange(pages, firstPage, pageCount, this.offset + offset, length);
    }

    /**
     * Calls {@code action} for each guest-physically contiguous run of the range, in order: runs join consecutive
     * page numbers, so a linear range is a single run.
     */
    public void forEachRun(RunConsumer action) {
        long remaining = length;
        int index = (int) (offset >>> GuestMemory.PAGE_SHIFT);
        long inPage = offset & (GuestMemory.PAGE_SIZE - 1);
        long runStart = -1;
        long runLength = 0;
        while (remaining > 0) {
            long take = Math.min(GuestMemory.PAGE_SIZE - inPage, remaining);
            long guest = (page(index) << GuestMemory.PAGE_SHIFT) + inPage;
            if (runStart >= 0 && runStart + runLength == guest) {
                runLength += take;
            } else {
                if (runStart >= 0) {
                    action.accept(runStart, runLength);
                }
                runStart = guest;
                runLength = take;
            }
            remaining -= take;
            inPage = 0;
            index++;
        }
        if (runStart >= 0) {
            action.accept(runStart, runLength);
        }
    }

    /** Receives one contiguous run: {@code length} bytes at guest-physical {@code guestOffset}. */
    @FunctionalInterface
    public interface RunConsumer {
        void accept(long guestOffset, long length);
    }

    @Override
    public String toString() {
        String list = pages == null ? "pages " + firstPage + ".." + (firstPage + pageCount - 1)
                : "pages " + Arrays.toString(pages);
        return "PagedRange[" + list + ", offset " + offset + ", length " + length + "]";
    }
}
