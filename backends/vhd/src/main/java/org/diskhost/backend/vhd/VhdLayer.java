package org.diskhost.backend.vhd;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;
import org.diskhost.format.vhd.Guids;

/**
 * One image file as a layer of a layered disk: the file's own present sectors, without its parents (the layers
 * below take their place). A read supplies and marks what the file has; writes allocate blocks in it.
 *
 * <p>Unmap only ever drops sectors when the layers below read as zeros ({@code nextIsZero}): then the whole blocks in
 * the range are deallocated and the rest of the range the file still has is overwritten with zeros; otherwise
 * dropping sectors would show the layers below, so the unmap changes nothing. Hence {@link UnmapBehavior#UNSPECIFIED}
 * (or {@link UnmapBehavior#IGNORED} for a file without blocks, a fixed VHD).
 */
final class VhdLayer implements LayerIo {
    private static final Logger LOG = Logger.getLogger(VhdLayer.class.getName());
    private static final int MAX_EXTENTS = 1024;

    private final ImageFile image;
    private final IoThreads threads;
    private final long sectorCount;

    /** @param image the open file, which the layer owns and closes */
    VhdLayer(ImageFile image, int ioThreads) {
        if (image.logicalSectorSize() != 512 && image.logicalSectorSize() != 4096) {
            throw new IllegalArgumentException(image + ": unsupported sector size " + image.logicalSectorSize());
        }
        this.image = image;
        this.threads = new IoThreads("vhd layer " + image, ioThreads);
        this.sectorCount = image.virtualSize() / image.logicalSectorSize();
    }

    @Override
    public String layerType() {
        return "vhd";
    }

    @Override
    public long sectorCount() {
        return sectorCount;
    }

    @Override
    public int sectorSize() {
        return image.logicalSectorSize();
    }

    @Override
    public Optional<DiskId> diskId() {
        UUID id = image.diskId();
        return id == null ? Optional.empty() : Optional.of(new DiskId(Guids.bytes(id)));
    }

    @Override
    public int physicalSectorSize() {
        return Math.max(sectorSize(), image.physicalSectorSize());
    }

    @Override
    public boolean isFuaRespected() {
        return !image.readOnly();
    }

    @Override
    public boolean isLogicallyReadOnly() {
        return image.readOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return image.blockSize() == 0 ? UnmapBehavior.IGNORED : UnmapBehavior.UNSPECIFIED;
    }

    @Override
    public int optimalUnmapSectors() {
        return Math.max(1, image.blockSize() / sectorSize());
    }

    private boolean outside(long sector, long count) {
        return !Disk.fits(sector, count, sectorCount);
    }

    @Override
    public CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker) {
        long count = buffers.length() / sectorSize();
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        try {
            buffers.segments(true); // MemoryAccess at once for buffers the device may not write
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        }
        int ss = sectorSize();
        return threads.submit(() -> {
            long start = sector * ss;
            long end = start + count * ss;
            for (long at = start; at < end;) {
                ImageFile.Extent extent = image.extentAt(at, end - at);
                long n = extent.length();
                RequestBuffers piece = buffers.subrange(at - start, n);
                switch (extent.state()) {
                    case PRESENT -> {
                        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(n));
                        image.read(at, data);
                        piece.writer().write(MemorySegment.ofBuffer(data.flip()));
                        marker.setRange(at / ss, n / ss);
                    }
                    case ZERO -> {
                        piece.writer().zero(n);
                        marker.setRange(at / ss, n / ss);
                    }
                    case ABSENT -> { } // the layers below supply it
                }
                at += n;
            }
        });
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() / sectorSize();
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (image.readOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return threads.submit(() -> {
            byte[] data = new byte[Math.toIntExact(count * sectorSize())];
            buffers.reader().read(data, 0, data.length);
            image.write(sector * sectorSize(), ByteBuffer.wrap(data));
            if (fua) {
                image.flush();
            }
        });
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return image.readOnly() ? CompletableFuture.completedFuture(null) : threads.submit(image::flush);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero) {
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (image.readOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0 || !nextIsZero || image.blockSize() == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return threads.submit(() -> {
            long offset = sector * sectorSize();
            long length = count * sectorSize();
            image.deallocate(offset, length);
            ImageRanges.zeroPresent(image, offset, length);
        });
    }

    /** What the file itself has: data, zeros, or a hole where the layers below show. */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        List<AllocationExtent> extents = new ArrayList<>();
        int ss = sectorSize();
        return threads.submit(() -> {
            long end = (sector + count) * ss;
            for (long at = sector * ss; at < end && extents.size() < MAX_EXTENTS;) {
                ImageFile.Extent extent = image.extentAt(at, end - at);
                ImageRanges.add(extents, extent.length() / ss, ImageRanges.allocation(extent.state()));
                at += extent.length();
            }
        }).thenApply(done -> extents);
    }

    @Override
    public void close() {
        if (!threads.shutdown()) {
            LOG.warning(() -> "vhd layer " + image + ": requests still running; leaving the file open");
            return;
        }
        try {
            image.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "vhd layer " + image + ": close failed", e);
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("path", image.toString()).value("format", image.format()).value("block_size", image.blockSize());
    }
}
