package org.diskhost.backend.blob;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * Seam (c): everything a blob disk does besides reading: writes, unmap, flush, the allocation map, and their
 * metadata. {@link BlobDisk} checks ranges (and {@code Disk} refuses writes to a read-only disk) before calling it, and
 * passes byte offsets of whole 512-byte sectors inside the disk. {@link #READ_ONLY} is the reference's behaviour and
 * what plain HTTP gets; an Azure page blob's implementation (Put Page, {@code x-ms-page-write: clear}, Get Page
 * Ranges, a lease) replaces it through a {@link Factory}, sending its requests with {@link BlobHttp#send} so that
 * they are signed, bounded and retried like reads.
 *
 * <p>Failures complete the futures with a {@link DiskException}; nothing here blocks the caller.
 */
interface BlobWrites {
    /** Whether the disk refuses writes and unmaps (then none of the write methods is called through {@code Disk}). */
    boolean isReadOnly();

    boolean isFuaRespected();

    UnmapBehavior unmapBehavior();

    /** Writes {@code buffers} (whole sectors) at byte {@code offset} of the disk. */
    CompletableFuture<Void> write(RequestBuffers buffers, long offset, boolean fua);

    /** Deallocates {@code length} bytes at byte {@code offset} of the disk, as {@link #unmapBehavior()} says. */
    CompletableFuture<Void> unmap(long offset, long length);

    CompletableFuture<Void> flush();

    /** As {@link org.diskhost.api.DiskIo#allocation}, for a range already checked. */
    CompletableFuture<List<AllocationExtent>> allocation(long sector, long count);

    /**
     * Whether reads stay pinned to the blob found at open ({@code If-Match}). A disk that writes its blob changes
     * the ETag with every write, so its reads cannot be pinned; a lease keeps other writers out instead.
     */
    default boolean pinsReads() {
        return true;
    }

    /** Called once the disk is made, before it serves a request: writes that watch the blob's length report to it. */
    default void attach(BlobDisk disk) {
    }

    /** Releases what the writes hold (a lease); called when the disk closes. */
    default void close() {
    }

    /** Adds the writes' state to the disk's inspect output. */
    default void inspect(Inspector out) {
    }

    /** Makes a disk's writes once its blob is found; may send requests (a lease), so it answers a future. */
    @FunctionalInterface
    interface Factory {
        /** Every blob read-only, as the reference has it. */
        Factory READ_ONLY = (http, blob, options) -> CompletableFuture.completedFuture(BlobWrites.READ_ONLY);

        CompletableFuture<BlobWrites> open(BlobHttp http, BlobProperties blob, BlobOptions options);
    }

    /**
     * The reference's read-only blob: writes, unmaps and flushes fail with {@code ReadOnly} (so a SCSI SYNCHRONIZE
     * CACHE gets DATA_PROTECT, as there), unmap is {@code Ignored} (so {@code Disk} never calls it), FUA is not
     * respected, and every sector is data.
     */
    BlobWrites READ_ONLY = new BlobWrites() {
        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public boolean isFuaRespected() {
            return false;
        }

        @Override
        public UnmapBehavior unmapBehavior() {
            return UnmapBehavior.IGNORED;
        }

        @Override
        public CompletableFuture<Void> write(RequestBuffers buffers, long offset, boolean fua) {
            return DiskException.failed(new DiskError.ReadOnly());
        }

        @Override
        public CompletableFuture<Void> unmap(long offset, long length) {
            return DiskException.failed(new DiskError.ReadOnly());
        }

        @Override
        public CompletableFuture<Void> flush() {
            return DiskException.failed(new DiskError.ReadOnly());
        }

        @Override
        public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
            return CompletableFuture.completedFuture(
                    count == 0 ? List.of() : List.of(new AllocationExtent(count, Allocation.DATA)));
        }
    };
}
