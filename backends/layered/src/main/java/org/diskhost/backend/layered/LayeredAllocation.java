package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;

/**
 * How a layered disk's sectors are backed: each layer's answer from the top down, where a layer's {@code HOLE} (it
 * does not hold the sectors) is asked of the layer below, within that layer's visible sectors. Sectors no layer holds
 * read as zeros and are not stored anywhere: {@code HOLE}. The answer covers a prefix of the range, as far as the
 * layers answered.
 */
final class LayeredAllocation {
    private final List<LayeredDisk.Stacked> layers;

    LayeredAllocation(List<LayeredDisk.Stacked> layers) {
        this.layers = layers;
    }

    /** A non-empty prefix of {@code [sector, sector + count)}, {@code count > 0}. */
    CompletableFuture<List<AllocationExtent>> of(long sector, long count) {
        return from(0, sector, count).thenApply(extents -> new ExtentList().addAll(extents).list());
    }

    private CompletableFuture<List<AllocationExtent>> from(int i, long sector, long count) {
        if (i == layers.size()) {
            return hole(count);
        }
        long n = count;
        if (i > 0) {
            long visible = layers.get(i).visibleSectors();
            if (sector >= visible) {
                return hole(count);
            }
            n = Math.min(count, visible - sector);
        }
        long visiblePart = n;
        return layers.get(i).io().allocation(sector, n)
                .thenCompose(extents -> below(i, sector, extents, 0, new ArrayList<>()))
                .thenApply(out -> {
                    long covered = out.stream().mapToLong(AllocationExtent::sectorCount).sum();
                    if (covered == visiblePart && visiblePart < count) {
                        out.add(new AllocationExtent(count - visiblePart, Allocation.HOLE)); // beyond the layer
                    }
                    return out;
                });
    }

    /** Resolves {@code extents[e...]} (starting at {@code sector}) into {@code out}, asking below for holes. */
    private CompletableFuture<List<AllocationExtent>> below(int i, long sector, List<AllocationExtent> extents, int e,
            List<AllocationExtent> out) {
        if (e == extents.size()) {
            return CompletableFuture.completedFuture(out);
        }
        AllocationExtent extent = extents.get(e);
        if (extent.allocation() != Allocation.HOLE) {
            out.add(extent);
            return below(i, sector + extent.sectorCount(), extents, e + 1, out);
        }
        return from(i + 1, sector, extent.sectorCount()).thenCompose(lower -> {
            out.addAll(lower);
            long covered = lower.stream().mapToLong(AllocationExtent::sectorCount).sum();
            return covered < extent.sectorCount() ? CompletableFuture.completedFuture(out)
                    : below(i, sector + covered, extents, e + 1, out);
        });
    }

    private static CompletableFuture<List<AllocationExtent>> hole(long count) {
        return CompletableFuture.completedFuture(new ArrayList<>(List.of(new AllocationExtent(count, Allocation.HOLE))));
    }
}
