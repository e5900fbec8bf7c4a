package org.diskhost.backend.layered;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

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

    DiskLayer(Disk disk) {
        this.disk = Objects.requireNonNull(disk, "disk");
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

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return disk.waitResize(sectorCount);
    }

    @Override
    public void inspect(Inspector out) {
        out.child("disk", disk);
    }
}
