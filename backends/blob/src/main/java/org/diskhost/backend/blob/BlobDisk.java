package org.diskhost.backend.blob;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;

import org.diskhost.api.AccessError;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.format.vhd.Guids;
import org.diskhost.format.vhd.ImageFormatException;
import org.diskhost.format.vhd.VhdFooter;

/**
 * A disk whose bytes are a blob behind an HTTP(S) URL: the reference's {@code BlobDisk}. 512-byte sectors, 4096-byte
 * physical sectors; format {@code flat} (the blob is the disk, a trailing partial sector unseen, no disk id) or
 * {@code vhd1} (a fixed VHD: the footer in the blob's last 512 bytes is validated as kind {@code vhd1} validates it,
 * its unique id is the disk id, its current size the disk's, and no read ever reaches it).
 *
 * <p>Reads are ranged {@code GET}s of exactly the bytes asked for, pinned to the blob found at open (its ETag as
 * {@code If-Match}): a blob that changed, shrank, or a server that answers with other bytes fails the read with
 * {@code Io}, never with mixed data. Reads longer than {@code chunkSize} are split into parallel ranges. Writes,
 * unmap, flush and the allocation map go to the disk's {@link BlobWrites} (read-only for plain HTTP).
 *
 * <p>Seams for the Azure parts: {@link RequestHook} signs every request; {@link BlobProperties} is what the open
 * found; {@link BlobWrites.Factory} replaces the read-only behaviour; {@link #lengthChanged} reports a resize.
 */
final class BlobDisk implements DiskIo {
    static final int SECTOR_SIZE = 512;
    private static final int SECTOR_SHIFT = 9;

    private final String diskName;
    private final BlobOptions options;
    private final BlobHttp http;
    private final BlobProperties blob;
    /** What reads send and check: {@code blob}, unpinned for writes that change it, with its current length. */
    private volatile BlobProperties readBlob;
    private final Optional<VhdFooter> footer;
    private final BlobWrites writes;
    /** Present when {@code readahead} is set. */
    private final Optional<ReadAhead> readAhead;
    private final List<CompletableFuture<Long>> resizeWaiters = new CopyOnWriteArrayList<>();
    private final LongAdder reads = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder readErrors = new LongAdder();
    private volatile long sectorCount;

    private BlobDisk(String diskName, BlobOptions options, BlobHttp http, BlobProperties blob,
            Optional<VhdFooter> footer, BlobWrites writes) {
        this.diskName = diskName;
        this.options = options;
        this.http = http;
        this.blob = blob;
        this.footer = footer;
        this.writes = writes;
        this.readBlob = writes.pinsReads() ? blob : blob.unpinned();
        this.sectorCount = footer.map(f -> f.currentSize() >>> SECTOR_SHIFT).orElse(blob.length() >>> SECTOR_SHIFT);
        // Twice the window: the blocks a reader is consuming stay while the next window is on its way.
        this.readAhead = options.readahead() == 0 ? Optional.empty()
                : Optional.of(new ReadAhead(options.readahead(), options.chunkSize(),
                        2 * Math.max(options.readahead(), options.chunkSize()), () -> sectorCount << SECTOR_SHIFT,
                        this::fetch));
    }

    /**
     * Finds the blob ({@link BlobHttp#open}), reads and validates the VHD footer for {@code vhd1}, and makes the
     * disk's writes with {@code writes}. Never blocks the caller.
     *
     * @return fails with a {@link BlobException} (or the footer's {@link ImageFormatException}) whose message names
     *         the URL (without its query) and what is wrong
     */
    static CompletableFuture<BlobDisk> open(String diskName, BlobOptions options, RequestHook hook,
            BlobWrites.Factory writes) {
        BlobHttp http;
        try {
            http = new BlobHttp(options, diskName, hook);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<BlobDisk> disk = http.open().thenCompose(blob -> footer(http, blob, options)
                .thenCompose(footer -> writes.open(http, blob, options)
                        .thenApply(w -> {
                            BlobDisk d = new BlobDisk(diskName, options, http, blob, footer, w);
                            w.attach(d);
                            return d;
                        })));
        return disk.whenComplete((ok, failure) -> {
            if (failure != null) {
                http.close();
            }
        });
    }

    private static CompletableFuture<Optional<VhdFooter>> footer(BlobHttp http, BlobProperties blob,
            BlobOptions options) {
        if (options.format() != BlobOptions.Format.VHD1) {
            if (blob.length() < SECTOR_SIZE) {
                return CompletableFuture.failedFuture(BlobException.fatal(BlobHttp.where(blob.uri())
                        + ": the blob has " + blob.length() + " bytes, less than one 512-byte sector"));
            }
            return CompletableFuture.completedFuture(Optional.empty());
        }
        String where = BlobHttp.where(blob.uri());
        try {
            VhdFooter.checkFixedLength(blob.length(), where);
        } catch (ImageFormatException e) {
            return CompletableFuture.failedFuture(e);
        }
        return http.readBytes(blob, blob.length() - VhdFooter.SIZE, VhdFooter.SIZE).thenApply(tail -> {
            try {
                VhdFooter footer = VhdFooter.parseFixed(blob.length(), tail, where);
                if (footer.currentSize() < SECTOR_SIZE) {
                    throw new ImageFormatException(where + ": the fixed VHD's current size is 0: no sector to serve");
                }
                return Optional.of(footer);
            } catch (ImageFormatException e) {
                throw new CompletionException(e);
            }
        });
    }

    /** What the open found, for a {@link BlobWrites} and for tests. */
    BlobProperties blob() {
        return blob;
    }

    @Override
    public String diskType() {
        return "blob";
    }

    @Override
    public long sectorCount() {
        return sectorCount;
    }

    @Override
    public int sectorSize() {
        return SECTOR_SIZE;
    }

    @Override
    public Optional<DiskId> diskId() {
        return footer.map(f -> new DiskId(Guids.bytes(f.uniqueId())));
    }

    @Override
    public int physicalSectorSize() {
        return 4096;
    }

    @Override
    public boolean isFuaRespected() {
        return writes.isFuaRespected();
    }

    @Override
    public boolean isReadOnly() {
        return writes.isReadOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return writes.unmapBehavior();
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        long count = buffers.length() >>> SECTOR_SHIFT;
        // Needed for vhd1 above all: the blob goes on past the disk (the footer).
        if (!Disk.fits(sector, count, sectorCount)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        if (!buffers.isWritable()) {
            return DiskException.failed(new DiskError.MemoryAccess(new AccessError.ReadOnly()));
        }
        long offset = sector << SECTOR_SHIFT;
        long length = count << SECTOR_SHIFT;
        RequestBuffers into = buffers.subrange(0, length);
        CompletableFuture<Void> read = readAhead.isPresent() ? readAhead.get().read(offset, length, into)
                : fetch(offset, length, into);
        return read.handle((ok, failure) -> {
            if (failure == null) {
                reads.increment();
                bytesRead.add(length);
                return null;
            }
            readErrors.increment();
            throw diskError(failure);
        });
    }

    /** Reads from the server: parallel ranges, each at most a chunk, so a large read fills several connections. */
    private CompletableFuture<Void> fetch(long offset, long length, RequestBuffers into) {
        long chunk = options.chunkSize();
        BlobProperties blob = readBlob;
        if (length <= chunk) {
            return http.read(blob, offset, length, into);
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>((int) ((length + chunk - 1) / chunk));
        for (long at = 0; at < length; at += chunk) {
            long n = Math.min(chunk, length - at);
            parts.add(http.read(blob, offset + at, n, into.subrange(at, n)));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    /** A failed request as the disk reports it: the buffers' own error as it is, anything else as {@code Io}. */
    private DiskException diskError(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException
                || (t instanceof IOException && !(t instanceof BlobException) && t.getCause() instanceof DiskException))
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof DiskException e) {
            return e;
        }
        return new DiskException(new DiskError.Io(t), "blob disk '" + diskName + "'");
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() >>> SECTOR_SHIFT;
        if (!Disk.fits(sector, count, sectorCount)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (writes.isReadOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return invalidating(writes.write(buffers.subrange(0, count << SECTOR_SHIFT), sector << SECTOR_SHIFT, fua));
    }

    /**
     * Drops the readahead's blocks when a change starts and again when it ends (or fails): a block fetched while it
     * was on its way may hold bytes from before it, and is never served.
     */
    private CompletableFuture<Void> invalidating(CompletableFuture<Void> change) {
        if (readAhead.isEmpty()) {
            return change;
        }
        readAhead.get().invalidate();
        return change.whenComplete((ok, failure) -> readAhead.get().invalidate());
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return writes.flush();
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        if (!Disk.fits(sector, count, sectorCount)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (writes.isReadOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return invalidating(writes.unmap(sector << SECTOR_SHIFT, count << SECTOR_SHIFT));
    }

    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (!Disk.fits(sector, count, sectorCount)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        return writes.allocation(sector, count);
    }

    /**
     * For a {@link BlobWrites} that sees the blob's length change (a page blob resized by someone else): the disk
     * takes {@code blobLength}'s whole sectors as its size and completes {@link #waitResize} waiters. Plain HTTP
     * blobs never call it (their length is fixed at open, as in the reference).
     */
    void lengthChanged(long blobLength) {
        long sectors = blobLength >>> SECTOR_SHIFT;
        readBlob = readBlob.withLength(blobLength);
        readAhead.ifPresent(ReadAhead::invalidate);
        if (sectors == sectorCount) {
            return;
        }
        sectorCount = sectors;
        for (CompletableFuture<Long> waiter : resizeWaiters) {
            if (waiter.complete(sectors)) {
                resizeWaiters.remove(waiter);
            }
        }
    }

    @Override
    public CompletableFuture<Long> waitResize(long count) {
        long now = sectorCount;
        if (now != count) {
            return CompletableFuture.completedFuture(now);
        }
        CompletableFuture<Long> waiter = new CompletableFuture<>();
        resizeWaiters.add(waiter);
        waiter.whenComplete((n, failure) -> resizeWaiters.remove(waiter)); // cancelled by the caller
        if (sectorCount != count) {
            waiter.complete(sectorCount);
        }
        return waiter;
    }

    @Override
    public void close() {
        writes.close();
        http.close();
        resizeWaiters.forEach(w -> w.cancel(false));
    }

    @Override
    public void inspect(Inspector out) {
        out.value("url", Redacted.uri(blob.uri()))
                .value("format", options.format().setting)
                .value("blob_length", blob.length())
                .value("http_version", blob.version().toString())
                .value("pinned_by", blob.etag().map(tag -> "ETag " + tag)
                        .or(() -> blob.lastModified().map(m -> "Last-Modified " + m))
                        .orElse("nothing: the server gave no ETag or Last-Modified"))
                .value("chunk_size", options.chunkSize())
                .value("reads", reads.sum())
                .value("bytes_read", bytesRead.sum())
                .value("read_errors", readErrors.sum());
        blob.blobType().ifPresent(type -> out.value("blob_type", type));
        readAhead.ifPresent(r -> r.inspect(out));
        http.inspect(out);
        writes.inspect(out);
    }
}
