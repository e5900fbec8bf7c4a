package org.diskhost.api.layer;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspectable;
import org.diskhost.api.inspect.Inspector;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One layer of a layered disk: a store that may hold any subset of its sectors. A sector the layer holds is
 * <em>present</em>; a read shows the present sectors of the topmost layer that has them, and the layers below
 * through the sectors it lacks.
 *
 * <p>Like {@link org.diskhost.api.DiskIo} without reservations and eject, with these differences: a
 * {@linkplain #read read} supplies only present sectors and {@linkplain SectorMarker marks} them; a
 * {@linkplain #write write} makes its sectors present; an {@linkplain #unmap unmap} is told whether the layers below
 * read as zeros there; and a layer that can serve as a read cache offers {@link #writeNoOverwrite()}. Thread-safe
 * and asynchronous: methods never block the caller and report failure by completing exceptionally with a
 * {@link org.diskhost.api.DiskException}. Every I/O method fails with {@code IllegalBlock} for a range that is not
 * inside {@link #sectorCount()}, and a layer must not rely on its caller for that check.
 *
 * <p>The metadata other than {@link #sectorCount()} must not change while the layer is attached.
 */
@ConsumerType
public interface LayerIo extends Inspectable {

    /** A diagnostic name of the layer type, such as {@code "ram"}, {@code "sqlite"} or {@code "disk"}. */
    String layerType();

    /** The current number of sectors; it may change at runtime (see {@link #waitResize}). */
    long sectorCount();

    /** The logical sector size in bytes: a power of two, at least 512. */
    int sectorSize();

    /** The layer's 16-byte identity, if its store has a natural one. */
    Optional<DiskId> diskId();

    /** The physical sector size in bytes: a power of two, at least {@link #sectorSize()}. */
    int physicalSectorSize();

    /** True only when a write with {@code fua} set is durable when it completes. */
    boolean isFuaRespected();

    /**
     * True when the layer's content must not change through {@link #write} or {@link #unmap}. Such a layer may still
     * accept {@link #writeNoOverwrite()} as a read cache, which never changes what the disk reads as.
     */
    boolean isLogicallyReadOnly();

    /** What the layer's unmapped sectors read as, when nothing below shows through. */
    UnmapBehavior unmapBehavior();

    /** The preferred unmap granularity, in sectors; at least 1. */
    default int optimalUnmapSectors() {
        return 1;
    }

    /**
     * Reads the present sectors among the {@code buffers.length() / sectorSize()} sectors from {@code sector}: for
     * each present sector, writes its data at its place in {@code buffers} and marks it in {@code marker}. The bytes
     * of sectors it does not mark are left untouched.
     *
     * @param marker covers exactly the sectors of this read
     * @return fails with {@code IllegalBlock} for a range outside the layer, {@code MemoryAccess} when the buffers
     *         cannot be written, {@code Io} when the store fails
     */
    CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker);

    /**
     * Stores {@code buffers.length() / sectorSize()} sectors from {@code sector}, which become present. With
     * {@code fua}, they are durable on completion if {@link #isFuaRespected()}.
     *
     * @return fails with {@code IllegalBlock} for a range outside the layer, {@code ReadOnly} on a logically read-only
     *         layer, {@code Io} when the store fails
     */
    CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua);

    /** Makes every completed write durable. */
    CompletableFuture<Void> syncCache();

    /**
     * Unmaps {@code count} sectors from {@code sector}; afterwards they read as {@link #unmapBehavior()} says, seen
     * through the whole stack. A count of 0 changes nothing.
     *
     * @param blockLevelOnly the pass-through hint of {@link org.diskhost.api.DiskIo#unmap}
     * @param nextIsZero the layers below read as zeros throughout the range, so the layer may drop the sectors
     *        (make them not present) instead of storing zeros
     * @return fails with {@code IllegalBlock} for a range outside the layer, {@code ReadOnly} on a logically read-only
     *         layer
     */
    CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero);

    /**
     * Reports which of the sectors from {@code sector} on the layer holds, for a layered disk's
     * {@link org.diskhost.api.DiskIo#allocation}: {@link Allocation#HOLE} for sectors it does not hold (the layers
     * below show through), {@link Allocation#ZERO} for sectors it holds that read as zeros, {@link Allocation#DATA}
     * for the others and whenever it does not know. The extents describe, in order and without gaps, a prefix of the
     * {@code count} sectors: at least one sector when {@code count > 0}. By default the layer holds everything
     * ({@code DATA}), which hides the layers below.
     *
     * @return fails with {@code IllegalBlock} for a range outside the layer, {@code Io} when the store fails
     */
    default CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        return CompletableFuture.completedFuture(
                count == 0 ? List.of() : List.of(new AllocationExtent(count, Allocation.DATA)));
    }

    /**
     * The layer's no-overwrite write, if it has one. Only a layer that has it can be a read cache. By default none.
     */
    default Optional<WriteNoOverwrite> writeNoOverwrite() {
        return Optional.empty();
    }

    /**
     * Completes with the new sector count once {@link #sectorCount()} differs from {@code sectorCount}. By default it
     * never completes. Cancelling the returned future stops the wait.
     */
    default CompletableFuture<Long> waitResize(long sectorCount) {
        return new CompletableFuture<>();
    }

    /** Releases the layer's resources; idempotent. Requests still in flight may fail. */
    default void close() {
    }

    /** Writes the layer's diagnostic state; by default nothing. */
    @Override
    default void inspect(Inspector out) {
    }
}
