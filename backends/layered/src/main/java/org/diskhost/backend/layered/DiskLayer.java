package org.diskhost.backend.layered;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;

/**
 * A whole disk as a layer that holds every sector (reference: DiskAsLayer, layer kind {@code disk}). It is logically
 * read-only when the disk is read-only, and cannot be a read cache. Unlike the reference it passes on the disk's
 * preferred unmap granularity and its resizes. It does not close the disk: whoever resolved the disk does.
 */
final class DiskLayer implements LayerIo {
    private final Disk disk;
    /** Nothing is below: the disk's holes are holes of the whole stack. */
    private final boolean bottom;

    DiskLayer(Disk disk) {
        this(disk, false);
    }

    DiskLayer(Disk disk, boolean bottom) {
        this.disk = Objects.requireNonNull(disk, "disk");
        this.bottom = bottom;
    }

    @Override
    public String layerType() {
        return "disk";
    }

    @Override
    public long sectorCount() {
        return disk.sectorCount();
    }

    @Override
    public int sectorSize() {
        return disk.sectorSize();
    }

    @Override
    public Optional<DiskId> diskId() {
        return disk.diskId();
    }

    @Override
    public int physicalSectorSize() {
        return disk.physicalSectorSize();
    }

    @Override
    public boolean isFuaRespected() {
        return disk.isFuaRespected();
    }

    @Override
    public boolean isLogicallyReadOnly() {
        return disk.isReadOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return disk.unmapBehavior();
    }

    @Override
    public int optimalUnmapSectors() {
        return disk.optimalUnmapSectors();
    }

    @Override
    public CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker) {
        return disk.readVectored(buffers, sector).thenRun(marker::setAll);
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua) {
        return disk.writeVectored(buffers, sector, fua);
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return disk.syncCache();
    }

    /** The disk holds every sector whatever is below, so {@code nextIsZero} changes nothing. */
    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero) {
        return disk.unmap(sector, count, blockLevelOnly);
    }

    /**
     * The disk's allocation. The layer holds every sector, so where layers are below it, the disk's holes are sectors
     * it holds as zeros ({@code ZERO}): a {@code HOLE} would let the layers below show through.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        CompletableFuture<List<AllocationExtent>> extents = disk.allocation(sector, count);
        return bottom ? extents : extents.thenApply(list -> list.stream().map(e -> e.allocation() == Allocation.HOLE
                ? new AllocationExtent(e.sectorCount(), Allocation.ZERO) : e).toList());
    }

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return disk.waitResize(sectorCount);
    }

    @Override
    public void inspect(Inspector out) {
        out.child("disk", disk);
    }
}
