package org.diskhost.api;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspectable;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A disk backend: what every backend and decorator implements, and what {@link Disk} wraps for frontends.
 *
 * <p>Implementations are shared by many threads at once and must be thread-safe. I/O methods are asynchronous:
 * they return at once, never block the caller, and report failure by completing the future exceptionally with a
 * {@link DiskException}; they never throw.
 *
 * <h2>Ranges</h2>
 * Sector numbers come from guests. For any sector, a backend completes with {@link DiskError.IllegalBlock} when
 * the request falls partly or wholly outside the disk, and never fails otherwise because of the range. Callers
 * need not check ranges first: {@link #sectorCount()} may change between a check and the I/O. A backend may leave
 * the check to its backing object only when that object's bounds are exactly the disk's and an out-of-range access
 * there fails and is mapped to {@code IllegalBlock}. When called through {@link Disk}, {@code (sector + count) *
 * sectorSize()} is at most {@code 2^63 - 1}, so a backend may add offsets without overflow checks. A zero-length
 * read at a valid sector succeeds.
 *
 * <h2>Metadata</h2>
 * {@link #sectorSize()}, {@link #physicalSectorSize()}, {@link #diskId()}, {@link #isFuaRespected()},
 * {@link #isReadOnly()}, {@link #unmapBehavior()} and {@link #optimalUnmapSectors()} must not change while the
 * backend is open; {@link Disk} reads them once. {@link #sectorCount()} may change; a backend whose count changes
 * implements {@link #waitResize}.
 */
@ConsumerType
public interface DiskIo extends Inspectable {

    /** A diagnostic name of the backend type, such as {@code "file"} or {@code "crypt"}. */
    String diskType();

    /** The current number of logical sectors. It may change at runtime (see {@link #waitResize}). */
    long sectorCount();

    /** The logical sector size in bytes: a power of two, at least 512. */
    int sectorSize();

    /** A 16-byte identity that a frontend may show to the guest, if the backing store has a natural one. */
    Optional<DiskId> diskId();

    /** The physical sector size in bytes: a power of two, at least {@link #sectorSize()}. */
    int physicalSectorSize();

    /** True only when a write with {@code fua} set is durable on stable storage when it completes. */
    boolean isFuaRespected();

    /** True when the disk refuses writes and unmaps. */
    boolean isReadOnly();

    /** What unmapped sectors read back as. */
    UnmapBehavior unmapBehavior();

    /** The preferred unmap granularity, in sectors; at least 1. */
    default int optimalUnmapSectors() {
        return 1;
    }

    /** The persistent-reservation interface of the disk, if it supports reservations. */
    default Optional<PersistentReservation> pr() {
        return Optional.empty();
    }

    /**
     * Reads {@code buffers.length() / sectorSize()} sectors starting at {@code sector} into {@code buffers}, which
     * the device may write ({@link RequestBuffers#isWritable()}).
     *
     * @return completes when the data is in the buffers; fails with {@code IllegalBlock} for a range outside the
     *         disk, {@code MemoryAccess} when the buffers cannot be written, {@code Io} or {@code MediumError} when
     *         the backing store fails
     */
    CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector);

    /**
     * Writes {@code buffers.length() / sectorSize()} sectors from {@code buffers} starting at {@code sector}. With
     * {@code fua}, the data is on stable storage when the future completes if {@link #isFuaRespected()}.
     *
     * @return fails with {@code IllegalBlock} for a range outside the disk, {@code ReadOnly} on a read-only disk,
     *         {@code MemoryAccess}, {@code Io} or {@code MediumError}
     */
    CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua);

    /** Makes every completed write durable (SCSI SYNCHRONIZE CACHE, NVMe FLUSH). */
    CompletableFuture<Void> syncCache();

    /**
     * Deallocates {@code count} sectors from {@code sector} (trim); afterwards they read as
     * {@link #unmapBehavior()} says.
     *
     * @param blockLevelOnly a hint passed through from SCSI's SRB_FLAGS_BLOCK_LEVEL_ONLY; decorators forward it
     *        unchanged and backends may ignore it
     * @return fails with {@code IllegalBlock} for a range outside the disk, {@code ReadOnly} on a read-only disk
     */
    CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly);

    /**
     * Reports how the sectors from {@code sector} on are backed. The extents describe, in order and without gaps, a
     * prefix of the {@code count} sectors: at least one sector when {@code count > 0}, at most {@code count}. A
     * backend that does not track allocation reports everything as {@link Allocation#DATA}, which is the default.
     * A decorator that changes what the sectors below it read as (encryption) must not forward it.
     *
     * @return fails with {@code IllegalBlock} for a range outside the disk, {@code Io} when the backing store fails
     */
    default CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        return CompletableFuture.completedFuture(
                count == 0 ? List.of() : List.of(new AllocationExtent(count, Allocation.DATA)));
    }

    /** Ejects removable media. By default fails with {@link DiskError.UnsupportedEject}. */
    default CompletableFuture<Void> eject() {
        return DiskException.failed(new DiskError.UnsupportedEject());
    }

    /**
     * Completes with the new sector count once {@link #sectorCount()} differs from {@code sectorCount}. By default
     * it never completes; a decorator forwards it. Cancelling the returned future stops the wait.
     */
    default CompletableFuture<Long> waitResize(long sectorCount) {
        return new CompletableFuture<>();
    }

    /**
     * Releases the backend's resources (file handles, threads). Requests still in flight may fail. The host calls it
     * once no request is in flight; it is idempotent. A decorator closes only itself, never the disk below it:
     * whoever resolved a disk closes it.
     */
    default void close() {
    }

    /** Writes the backend's diagnostic state; by default nothing beyond what {@link Disk} reports. */
    @Override
    default void inspect(Inspector out) {
    }
}
