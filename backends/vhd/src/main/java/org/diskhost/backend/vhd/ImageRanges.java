package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;

/** What the chain disk and the layer do alike with the runs of an image file. */
final class ImageRanges {
    /** Zeros written at a time. */
    private static final int ZERO_CHUNK = 1 << 20;

    private ImageRanges() {
    }

    /**
     * Writes zeros over what {@code image} still has in the range: after {@link ImageFile#deallocate}, the partial
     * blocks at its ends. Sectors the file does not have are left alone (nothing is allocated).
     */
    static void zeroPresent(ImageFile image, long offset, long length) throws IOException {
        long at = offset;
        long end = offset + length;
        while (at < end) {
            ImageFile.Extent extent = image.extentAt(at, Math.min(end - at, ZERO_CHUNK));
            if (extent.state() == ImageFile.Extent.State.PRESENT) {
                image.write(at, ByteBuffer.allocate((int) extent.length()));
            }
            at += extent.length();
        }
    }

    /** Appends a run to {@code out}, merged into the last extent when that has the same allocation. */
    static void add(List<AllocationExtent> out, long sectors, Allocation allocation) {
        int last = out.size() - 1;
        if (last >= 0 && out.get(last).allocation() == allocation) {
            out.set(last, new AllocationExtent(out.get(last).sectorCount() + sectors, allocation));
        } else {
            out.add(new AllocationExtent(sectors, allocation));
        }
    }

    /** How an image file's own run is reported when nothing below it counts: absent is a hole. */
    static Allocation allocation(ImageFile.Extent.State state) {
        return switch (state) {
            case PRESENT -> Allocation.DATA;
            case ZERO -> Allocation.ZERO;
            case ABSENT -> Allocation.HOLE;
        };
    }
}
