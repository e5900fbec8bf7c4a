package org.diskhost.backend.layered;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;
import org.diskhost.api.layer.WriteNoOverwrite;

/** A layer that forwards everything, for tests that change one property. */
class ForwardingLayer implements LayerIo {
    final LayerIo inner;

    ForwardingLayer(LayerIo inner) {
        this.inner = inner;
    }

    @Override
    public String layerType() {
        return inner.layerType();
    }

    @Override
    public long sectorCount() {
        return inner.sectorCount();
    }

    @Override
    public int sectorSize() {
        return inner.sectorSize();
    }

    @Override
    public Optional<DiskId> diskId() {
        return inner.diskId();
    }

    @Override
    public int physicalSectorSize() {
        return inner.physicalSectorSize();
    }

    @Override
    public boolean isFuaRespected() {
        return inner.isFuaRespected();
    }

    @Override
    public boolean isLogicallyReadOnly() {
        return inner.isLogicallyReadOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return inner.unmapBehavior();
    }

    @Override
    public int optimalUnmapSectors() {
        return inner.optimalUnmapSectors();
    }

    @Override
    public CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker) {
        return inner.read(buffers, sector, marker);
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua) {
        return inner.write(buffers, sector, fua);
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return inner.syncCache();
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero) {
        return inner.unmap(sector, count, blockLevelOnly, nextIsZero);
    }

    @Override
    public Optional<WriteNoOverwrite> writeNoOverwrite() {
        return inner.writeNoOverwrite();
    }

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return inner.waitResize(sectorCount);
    }

    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        return inner.allocation(sector, count);
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public void inspect(Inspector out) {
        out.child("inner", inner);
    }
}
