package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.List;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;

/** Builds an allocation answer run by run, joining neighbours of the same allocation. Not thread-safe. */
final class ExtentList {
    private final List<AllocationExtent> extents = new ArrayList<>();

    /** Appends {@code count} sectors (none if 0) of {@code allocation}. */
    ExtentList add(Allocation allocation, long count) {
        if (count > 0) {
            AllocationExtent last = extents.isEmpty() ? null : extents.getLast();
            if (last != null && last.allocation() == allocation) {
                extents.set(extents.size() - 1, new AllocationExtent(last.sectorCount() + count, allocation));
            } else {
                extents.add(new AllocationExtent(count, allocation));
            }
        }
        return this;
    }

    ExtentList addAll(List<AllocationExtent> more) {
        more.forEach(e -> add(e.allocation(), e.sectorCount()));
        return this;
    }

    List<AllocationExtent> list() {
        return List.copyOf(extents);
    }
}
