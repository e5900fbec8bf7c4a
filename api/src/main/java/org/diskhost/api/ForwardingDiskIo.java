package org.diskhost.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A decorator's starting point: forwards every method to the disk below, so a decorator overrides only what it
 * changes. The disk below is a {@link Disk}, whose checks have already run for requests that reach it. Note that
 * this forwards {@link #eject()} and {@link #waitResize}; a decorator that must not (as the reference's crypt and
 * prwrap do not eject) overrides them. It also forwards {@link #allocation}, which a decorator that changes what
 * the sectors read as (encryption) must override.
 */
@ConsumerType
public abstract class ForwardingDiskIo implements DiskIo {
    /** The disk below this decorator. */
    protected final Disk inner;

    protected ForwardingDiskIo(Disk inner) {
        this.inner = Objects.requireNonNull(inner, "inner");
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
    public boolean isReadOnly() {
        return inner.isReadOnly();
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
    public Optional<PersistentReservation> pr() {
        return inner.pr();
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return inner.readVectored(buffers, sector);
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return inner.writeVectored(buffers, sector, fua);
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return inner.syncCache();
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        return inner.unmap(sector, count, blockLevelOnly);
    }

    @Override
    public CompletableFuture<Void> eject() {
        return inner.eject();
    }

    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        return inner.allocation(sector, count);
    }

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return inner.waitResize(sectorCount);
    }

    /** Shows the disk below as the child {@code inner}. */
    @Override
    public void inspect(Inspector out) {
        out.child("inner", inner);
    }
}
