package org.diskhost.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;

/**
 * The handle frontends hold: a thread-safe, validating wrapper of one {@link DiskIo}.
 *
 * <p>At construction it validates the sector sizes and caches the metadata that must not change ({@link #of}).
 * Each request is then checked before the backend sees it:
 * <ul>
 * <li><b>Representability</b> (read, write, unmap): the request fails with {@link DiskError.IllegalBlock} when
 * {@code sector + count}, taken as unsigned 64-bit values, overflows or exceeds {@code floor((2^63 - 1) /
 * sectorSize)}. This check never consults {@link #sectorCount()}; {@code count} is {@code floor(buffers.length() /
 * sectorSize)} for reads and writes.</li>
 * <li><b>Read-only</b> (write, unmap): on a read-only disk the request fails with {@link DiskError.IllegalBlock}
 * when it lies outside {@link #sectorCount()}, and with {@link DiskError.ReadOnly} otherwise; the backend is not
 * called.</li>
 * <li><b>Ignored unmap</b>: when the backend's behaviour is {@link UnmapBehavior#IGNORED}, an unmap inside
 * {@link #sectorCount()} succeeds and one outside fails with {@code IllegalBlock}; the backend is not called.</li>
 * </ul>
 * {@link #syncCache()}, {@link #eject()}, {@link #pr()} and {@link #waitResize} are forwarded unchecked. Nothing here
 * throws: a failure, including an exception thrown by a faulty backend, completes the future exceptionally.
 */
public final class Disk implements DiskIo {
    private final DiskIo backend;
    private final int sectorSize;
    private final int sectorShift;
    private final int physicalSectorSize;
    private final Optional<DiskId> diskId;
    private final boolean fuaRespected;
    private final boolean readOnly;
    private final UnmapBehavior unmapBehavior;
    private final int optimalUnmapSectors;
    /** Exclusive bound on {@code sector + count}: floor((2^63 - 1) / sectorSize) + 1. */
    private final long representableEnd;

    private Disk(DiskIo backend) {
        this.backend = backend;
        this.sectorSize = backend.sectorSize();
        if (sectorSize < 512 || Integer.bitCount(sectorSize) != 1) {
            throw new InvalidDiskException(new InvalidDisk.InvalidSectorSize(sectorSize));
        }
        this.physicalSectorSize = backend.physicalSectorSize();
        if (Integer.compareUnsigned(physicalSectorSize, sectorSize) < 0 || Integer.bitCount(physicalSectorSize) != 1) {
            throw new InvalidDiskException(new InvalidDisk.InvalidPhysicalSectorSize(physicalSectorSize));
        }
        this.sectorShift = Integer.numberOfTrailingZeros(sectorSize);
        this.diskId = Objects.requireNonNull(backend.diskId(), "diskId");
        this.fuaRespected = backend.isFuaRespected();
        this.readOnly = backend.isReadOnly();
        this.unmapBehavior = Objects.requireNonNull(backend.unmapBehavior(), "unmapBehavior");
        this.optimalUnmapSectors = Math.max(1, backend.optimalUnmapSectors());
        this.representableEnd = Long.MAX_VALUE / sectorSize + 1;
    }

    /**
     * Wraps {@code backend}, reading and caching its fixed metadata once.
     *
     * @throws InvalidDiskException if the sector size is not a power of two of at least 512 bytes
     *         ({@link InvalidDisk.InvalidSectorSize}), or the physical sector size is not a power of two of at least
     *         the sector size ({@link InvalidDisk.InvalidPhysicalSectorSize})
     */
    public static Disk of(DiskIo backend) {
        Objects.requireNonNull(backend, "backend");
        return new Disk(backend);
    }

    /** The backend this handle wraps. */
    public DiskIo backend() {
        return backend;
    }

    /**
     * True when {@code count} sectors from {@code sector} (both unsigned) can be addressed in bytes: their end does
     * not overflow and is at most {@code floor((2^63 - 1) / sectorSize)}.
     */
    public boolean isRepresentable(long sector, long count) {
        long end = sector + count;
        return Long.compareUnsigned(end, sector) >= 0 && Long.compareUnsigned(end, representableEnd) < 0;
    }

    /**
     * True when {@code count} sectors from {@code sector}, both taken as unsigned, lie inside a disk of
     * {@code sectorCount} sectors: the range check every backend makes before touching its store.
     */
    public static boolean fits(long sector, long count, long sectorCount) {
        return Long.compareUnsigned(sector, sectorCount) <= 0 && Long.compareUnsigned(count, sectorCount - sector) <= 0;
    }

    private boolean isInside(long sector, long count) {
        return fits(sector, count, backend.sectorCount());
    }

    @Override
    public String diskType() {
        return backend.diskType();
    }

    @Override
    public long sectorCount() {
        return backend.sectorCount();
    }

    @Override
    public int sectorSize() {
        return sectorSize;
    }

    /** log2 of {@link #sectorSize()}. */
    public int sectorShift() {
        return sectorShift;
    }

    @Override
    public Optional<DiskId> diskId() {
        return diskId;
    }

    @Override
    public int physicalSectorSize() {
        return physicalSectorSize;
    }

    @Override
    public boolean isFuaRespected() {
        return fuaRespected;
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
        return optimalUnmapSectors;
    }

    @Override
    public Optional<PersistentReservation> pr() {
        return backend.pr();
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        if (!isRepresentable(sector, buffers.length() >>> sectorShift)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        return call(() -> backend.readVectored(buffers, sector));
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() >>> sectorShift;
        if (!isRepresentable(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return refuseOnReadOnly(sector, count);
        }
        return call(() -> backend.writeVectored(buffers, sector, fua));
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return call(backend::syncCache);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        if (!isRepresentable(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return refuseOnReadOnly(sector, count);
        }
        if (unmapBehavior == UnmapBehavior.IGNORED) {
            return isInside(sector, count)
                    ? CompletableFuture.completedFuture(null)
                    : DiskException.failed(new DiskError.IllegalBlock());
        }
        return call(() -> backend.unmap(sector, count, blockLevelOnly));
    }

    /**
     * Forwarded to the backend after the range check ({@code IllegalBlock} outside the disk). The backend's answer is
     * made well formed: extents past {@code count} are cut, and an empty answer for a non-empty range becomes one
     * sector of {@link Allocation#DATA}, so a caller always makes progress.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (!isInside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        return Disk.<List<AllocationExtent>>call(() -> backend.allocation(sector, count))
                .thenApply(extents -> clip(extents, count));
    }

    private static List<AllocationExtent> clip(List<AllocationExtent> extents, long count) {
        List<AllocationExtent> out = new ArrayList<>(extents.size());
        long left = count;
        for (AllocationExtent extent : extents) {
            if (left == 0) {
                break;
            }
            long take = Math.min(extent.sectorCount(), left);
            out.add(take == extent.sectorCount() ? extent : new AllocationExtent(take, extent.allocation()));
            left -= take;
        }
        return out.isEmpty() ? List.of(new AllocationExtent(1, Allocation.DATA)) : out;
    }

    @Override
    public CompletableFuture<Void> eject() {
        return call(backend::eject);
    }

    /** Forwarded to the backend (the reference drops it and so never reports a resize). */
    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return call(() -> backend.waitResize(sectorCount));
    }

    @Override
    public void close() {
        backend.close();
    }

    @Override
    public void inspect(Inspector out) {
        out.value("disk_type", backend.diskType())
                .value("sector_count", backend.sectorCount())
                .value("sector_size", sectorSize)
                .value("physical_sector_size", physicalSectorSize)
                .value("read_only", readOnly)
                .value("fua_respected", fuaRespected)
                .value("unmap_behavior", unmapBehavior)
                .value("disk_id", diskId.map(DiskId::hex).orElse(null))
                .value("supports_pr", backend.pr().isPresent());
        backend.inspect(out);
    }

    @Override
    public String toString() {
        return "Disk[" + backend.diskType() + ", " + backend.sectorCount() + " x " + sectorSize + " B]";
    }

    private CompletableFuture<Void> refuseOnReadOnly(long sector, long count) {
        return isInside(sector, count)
                ? DiskException.failed(new DiskError.ReadOnly())
                : DiskException.failed(new DiskError.IllegalBlock());
    }

    /** Runs a backend call so that a thrown exception or a null result becomes a failed future. */
    private static <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> request) {
        try {
            CompletableFuture<T> result = request.get();
            return result != null ? result
                    : CompletableFuture.failedFuture(new DiskException(
                            new DiskError.Io(new IllegalStateException("backend returned no future"))));
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new DiskException(new DiskError.Io(e), "backend threw"));
        }
    }
}
