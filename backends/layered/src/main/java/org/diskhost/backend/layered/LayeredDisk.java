package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.layer.UnattachedLayer;

/**
 * A disk stacked from layers, top first (reference section 6.11). A read shows, for each sector, the topmost layer
 * that holds it, and zeros where none does; a read-cache layer is filled with what reads find below it. A write
 * goes to the top layer and on down while the layer it reached is write-through: those layers are the <em>write
 * path</em>. Unlike the reference, a read-only layered disk refuses writes and unmaps itself.
 *
 * <p>The size is the top layer's live size; each lower layer shows only its <em>visible</em> sectors, fixed at
 * construction as the smallest size among it and the layers above it, and reads as zeros beyond.
 */
final class LayeredDisk implements DiskIo {
    /** One attached layer and its place in the stack. */
    record Stacked(LayerIo io, boolean readCache, boolean writeThrough, long visibleSectors) {
    }

    private final boolean readOnly;
    private final List<Stacked> layers;
    /** Layers 0 .. writePath - 1 receive writes, flushes and unmaps. */
    private final int writePath;
    private final int sectorShift;
    private final UnmapBehavior unmapBehavior;
    private final LayeredAllocation allocation;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LayeredDisk(boolean readOnly, List<Stacked> layers) {
        this.readOnly = readOnly;
        this.layers = List.copyOf(layers);
        int path = 1;
        while (path < layers.size() && layers.get(path - 1).writeThrough()) {
            path++;
        }
        this.writePath = path;
        this.sectorShift = Integer.numberOfTrailingZeros(layers.getFirst().io().sectorSize());
        this.unmapBehavior = deriveUnmapBehavior();
        this.allocation = new LayeredAllocation(this.layers);
    }

    /**
     * Attaches {@code descriptions} (top first) from the bottom up and checks the stack as the reference does.
     *
     * @return the disk; fails with a {@link LayeredException} after closing every layer
     */
    static CompletableFuture<LayeredDisk> create(boolean readOnly, List<LayerDescription> descriptions) {
        if (descriptions.isEmpty()) {
            return CompletableFuture.failedFuture(new LayeredException(new LayeredError.NoLayers()));
        }
        LayerIo[] attached = new LayerIo[descriptions.size()];
        return attachFrom(descriptions.size() - 1, Optional.empty(), descriptions, attached).thenApply(v -> {
            try {
                return validate(readOnly, descriptions, attached);
            } catch (LayeredException e) {
                closeAll(attached);
                throw e;
            }
        });
    }

    /** Attaches layer {@code i} over {@code below}, then the layers above it; on failure closes everything. */
    private static CompletableFuture<Void> attachFrom(int i, Optional<LowerLayer> below,
            List<LayerDescription> descriptions, LayerIo[] attached) {
        if (i < 0) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<LayerIo> attach;
        try {
            attach = descriptions.get(i).layer().attach(below);
        } catch (RuntimeException e) {
            attach = CompletableFuture.failedFuture(e);
        }
        return attach.handle((layer, failure) -> {
            if (failure != null || layer == null) {
                for (int above = 0; above < i; above++) {
                    descriptions.get(above).layer().close();
                }
                closeAll(attached);
                Throwable cause = failure != null ? unwrap(failure) : new IllegalStateException("attach gave no layer");
                throw new LayeredException(new LayeredError.AttachFailed(i, cause));
            }
            attached[i] = layer;
            return Optional.of(LowerLayer.of(layer));
        }).thenCompose(lower -> attachFrom(i - 1, lower, descriptions, attached));
    }

    private static LayeredDisk validate(boolean readOnly, List<LayerDescription> descriptions, LayerIo[] attached) {
        int n = attached.length;
        int bottomSectorSize = attached[n - 1].sectorSize();
        boolean inWritePath = true;
        List<Stacked> stacked = new ArrayList<>(n);
        long visible = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            LayerDescription d = descriptions.get(i);
            LayerIo layer = attached[i];
            if (d.readCache() && layer.writeNoOverwrite().isEmpty()) {
                throw new LayeredException(new LayeredError.ReadCacheNotSupported(i, layer.layerType()));
            }
            int ss = layer.sectorSize();
            if (ss <= 0 || Integer.bitCount(ss) != 1) {
                throw new LayeredException(new LayeredError.InvalidSectorSize(i, ss));
            }
            if (ss != bottomSectorSize) {
                throw new LayeredException(new LayeredError.MismatchedSectorSize(i, bottomSectorSize, ss));
            }
            if (inWritePath && !readOnly && layer.isLogicallyReadOnly()) {
                throw new LayeredException(new LayeredError.ReadOnly(i));
            }
            if (d.writeThrough() && i > 0 && !descriptions.get(i - 1).writeThrough()) {
                throw new LayeredException(new LayeredError.UselessWriteThrough(i, false));
            }
            inWritePath &= d.writeThrough();
            visible = Math.min(visible, layer.sectorCount());
            stacked.add(new Stacked(layer, d.readCache(), d.writeThrough(), visible));
        }
        if (descriptions.getLast().writeThrough()) {
            throw new LayeredException(new LayeredError.UselessWriteThrough(n - 1, true));
        }
        return new LayeredDisk(readOnly, stacked);
    }

    /**
     * Zeroes while every write-path layer so far zeroes; once a write-through layer has been passed, anything else
     * makes unmap ignored (the layers would disagree); otherwise ignored if either side ignores, else unspecified.
     */
    private UnmapBehavior deriveUnmapBehavior() {
        UnmapBehavior result = UnmapBehavior.ZEROES;
        boolean mustZero = false;
        for (int i = 0; i < writePath; i++) {
            Stacked layer = layers.get(i);
            mustZero |= layer.writeThrough();
            UnmapBehavior b = layer.io().unmapBehavior();
            if (result == UnmapBehavior.ZEROES && b == UnmapBehavior.ZEROES) {
                result = UnmapBehavior.ZEROES;
            } else if (mustZero || result == UnmapBehavior.IGNORED || b == UnmapBehavior.IGNORED) {
                result = UnmapBehavior.IGNORED;
            } else {
                result = UnmapBehavior.UNSPECIFIED;
            }
        }
        return result;
    }

    List<Stacked> layers() {
        return layers;
    }

    private LayerIo top() {
        return layers.getFirst().io();
    }

    @Override
    public String diskType() {
        return "layered";
    }

    @Override
    public long sectorCount() {
        return top().sectorCount();
    }

    @Override
    public int sectorSize() {
        return top().sectorSize();
    }

    /** The first identity found from the top, through every layer. */
    @Override
    public Optional<DiskId> diskId() {
        for (Stacked layer : layers) {
            Optional<DiskId> id = layer.io().diskId();
            if (id.isPresent()) {
                return id;
            }
        }
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return top().physicalSectorSize();
    }

    @Override
    public boolean isFuaRespected() {
        for (int i = 0; i < writePath; i++) {
            if (!layers.get(i).io().isFuaRespected()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return unmapBehavior;
    }

    @Override
    public int optimalUnmapSectors() {
        int max = 1;
        for (int i = 0; i < writePath; i++) {
            max = Math.max(max, layers.get(i).io().optimalUnmapSectors());
        }
        return max;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        long count = buffers.length() >>> sectorShift;
        if (count == 0) {
            return CompletableFuture.completedFuture(null); // as the reference: even beyond the end
        }
        if (!Disk.fits(sector, count, sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count > Integer.MAX_VALUE) {
            return DiskException.failed(new DiskError.InvalidInput(), "a read of more than 2^31 sectors");
        }
        return new LayeredRead(layers, buffers, sector, (int) count, sectorShift).run();
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        CompletableFuture<Void> refused = refuse(sector, buffers.length() >>> sectorShift);
        if (refused != null) {
            return refused;
        }
        return alongWritePath(0, layer -> layer.write(buffers, sector, fua));
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return alongWritePath(0, LayerIo::syncCache);
    }

    /**
     * Unmaps along the write path; each layer learns whether what is below it reads as zeros at {@code sector}: there
     * is nothing below, or the sector is beyond the next layer's visible sectors. A zero count changes nothing (the
     * reference's SQLite layer underflows on it).
     */
    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        CompletableFuture<Void> refused = refuse(sector, count);
        if (refused != null) {
            return refused;
        }
        if (unmapBehavior == UnmapBehavior.IGNORED || count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return unmapFrom(0, sector, count, blockLevelOnly);
    }

    private CompletableFuture<Void> unmapFrom(int i, long sector, long count, boolean blockLevelOnly) {
        boolean nextIsZero = i + 1 == layers.size()
                || Long.compareUnsigned(sector, layers.get(i + 1).visibleSectors()) >= 0;
        CompletableFuture<Void> done = layers.get(i).io().unmap(sector, count, blockLevelOnly, nextIsZero);
        return i + 1 < writePath ? done.thenCompose(v -> unmapFrom(i + 1, sector, count, blockLevelOnly)) : done;
    }

    /** The range and read-only checks of writes and unmaps; null when the request may go on. */
    private CompletableFuture<Void> refuse(long sector, long count) {
        if (!Disk.fits(sector, count, sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        return null;
    }

    /** Runs {@code operation} on write-path layers from {@code i} down, one after another; an error stops it. */
    private CompletableFuture<Void> alongWritePath(int i,
            java.util.function.Function<LayerIo, CompletableFuture<Void>> operation) {
        CompletableFuture<Void> done = operation.apply(layers.get(i).io());
        return i + 1 < writePath ? done.thenCompose(v -> alongWritePath(i + 1, operation)) : done;
    }

    /**
     * Each sector as the topmost layer that holds it reports it; {@code HOLE} where no layer holds it (see
     * {@link LayeredAllocation}).
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (!Disk.fits(sector, count, sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        return allocation.of(sector, count);
    }

    /** The top layer's resizes: the disk's size is the top layer's. */
    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return top().waitResize(sectorCount);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            layers.forEach(layer -> layer.io().close());
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("layers", layers.size()).value("write_path", writePath);
        for (int i = 0; i < layers.size(); i++) {
            Stacked layer = layers.get(i);
            boolean isTop = i == 0;
            out.child("layer" + i, node -> {
                node.value("layer_type", layer.io().layerType())
                        .value("sector_count", layer.io().sectorCount())
                        .value("visible_sector_count", isTop ? null : layer.visibleSectors())
                        .value("read_cache", layer.readCache())
                        .value("write_through", layer.writeThrough());
                layer.io().inspect(node);
            });
        }
    }

    private static void closeAll(LayerIo[] attached) {
        for (LayerIo layer : attached) {
            if (layer != null) {
                layer.close();
            }
        }
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Closes descriptions' layers that were never attached (used when the stack is abandoned before attach). */
    static void closeUnattached(List<UnattachedLayer> layers) {
        layers.forEach(UnattachedLayer::close);
    }
}
