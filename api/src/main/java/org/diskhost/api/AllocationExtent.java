package org.diskhost.api;

import java.util.Objects;

/**
 * A run of {@code sectorCount} consecutive sectors with the same {@link Allocation}.
 *
 * @param sectorCount the length of the run in sectors; at least 1
 * @param allocation how the run is backed
 */
public record AllocationExtent(long sectorCount, Allocation allocation) {
    public AllocationExtent {
        if (sectorCount <= 0) {
            throw new IllegalArgumentException("an extent has at least one sector, not " + sectorCount);
        }
        Objects.requireNonNull(allocation, "allocation");
    }
}
