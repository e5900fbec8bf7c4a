package org.diskhost.backend.blob;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.LongAdder;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.backend.blob.azure.AzureBlob;
import org.diskhost.backend.blob.azure.AzureOptions;
import org.diskhost.backend.blob.azure.AzureSigner;
import org.diskhost.backend.blob.azure.Lease;
import org.diskhost.backend.blob.azure.LengthPoller;

/**
 * The Azure side of a blob disk, wired into the HTTP side's seams: the {@link RequestHook} that signs every request
 * (and adds a SAS token from {@code sasFile}), and the {@link BlobWrites} of a page blob: allocation from Get Page
 * Ranges for every page blob, and for a writable one Put Page writes, clears for unmap, a lease and length polling.
 * Block and append blobs get the reference's read-only behaviour.
 */
final class AzurePageBlob implements BlobWrites {
    /** Get Page Ranges asks for at most this much at once; the allocation contract allows answering a prefix. */
    static final long MAX_RANGES_SPAN = 1L << 30;

    private final String disk;
    private final AzureBlob blob;
    private final boolean readOnly;
    private final Optional<Lease> lease;
    private final AzureOptions azure;
    private final ScheduledExecutorService scheduler;
    private final long length;
    /** Whether the disk's size follows the blob's length: not for a fixed VHD, whose size is in its footer. */
    private final boolean followsLength;
    private final LongAdder writes = new LongAdder();
    private final LongAdder clears = new LongAdder();
    private volatile LengthPoller poller;

    private AzurePageBlob(String disk, AzureBlob blob, boolean readOnly, Optional<Lease> lease, AzureOptions azure,
            ScheduledExecutorService scheduler, long length, boolean followsLength) {
        this.disk = disk;
        this.blob = blob;
        this.readOnly = readOnly;
        this.lease = lease;
        this.azure = azure;
        this.scheduler = scheduler;
        this.length = length;
        this.followsLength = followsLength;
    }

    /** Signs every request of the disk: {@code x-ms-*} headers, Shared Key, or the SAS token of {@code sasFile}. */
    static RequestHook hook(AzureOptions azure) {
        AzureSigner signer = azure.signer();
        return request -> {
            URI uri = azure.withSas(request.uri());
            Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.putAll(request.headers());
            signer.complete(request.method(), uri, headers, request.contentLength());
            return new BlobRequest(request.method(), uri, headers, request.contentLength());
        };
    }

    /**
     * Page blobs get this class; other blobs stay read-only. A writable disk acquires its lease here, so a second
     * writer fails to open.
     */
    static BlobWrites.Factory factory(String diskName, AzureOptions azure) {
        return (http, properties, options) -> {
            if (!properties.isPageBlob()) {
                return CompletableFuture.completedFuture(BlobWrites.READ_ONLY);
            }
            String disk = "blob disk '" + diskName + "'";
            boolean readOnly = options.readOnly();
            AzureBlob blob = new AzureBlob(disk, properties.uri(), BlobHttp.where(properties.uri()),
                    (what, method, uri, headers, contentLength, body) -> http.send(what,
                            () -> new BlobRequest(method, uri, headers, contentLength), body,
                            HttpResponse.BodyHandlers.ofByteArray()),
                    azure.key().isPresent(), readOnly ? properties.etag() : Optional.empty());
            if (readOnly) {
                return CompletableFuture.completedFuture(
                        new AzurePageBlob(disk, blob, true, Optional.empty(), azure, null, properties.length(), false));
            }
            ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread t = new Thread(task, "diskhost-blob-" + diskName + "-azure");
                t.setDaemon(true);
                return t;
            });
            CompletableFuture<Optional<Lease>> lease = azure.lease()
                    ? Lease.acquire(blob, disk, azure.leaseSeconds(), scheduler).thenApply(Optional::of)
                    : CompletableFuture.completedFuture(Optional.empty());
            boolean flat = options.format() == BlobOptions.Format.FLAT;
            return lease.<BlobWrites>thenApply(l -> new AzurePageBlob(disk, blob, false, l, azure, scheduler,
                    properties.length(), flat)).whenComplete((ok, failure) -> {
                        if (failure != null) {
                            scheduler.shutdownNow();
                        }
                    });
        };
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    /**
     * True without doing anything: a Put Page is durable when Azure acknowledges it (the service commits it to
     * replicated storage before answering), so FUA adds nothing; see {@link #flush()}.
     */
    @Override
    public boolean isFuaRespected() {
        return !readOnly;
    }

    /** A cleared page is a hole, and a hole reads as zeros. */
    @Override
    public UnmapBehavior unmapBehavior() {
        return readOnly ? UnmapBehavior.IGNORED : UnmapBehavior.ZEROES;
    }

    @Override
    public boolean pinsReads() {
        return readOnly;
    }

    @Override
    public void attach(BlobDisk disk) {
        if (followsLength && !azure.resizePoll().isZero()) {
            poller = new LengthPoller(blob, this.disk, length, azure.resizePoll(), scheduler, disk::lengthChanged);
        }
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long offset, boolean fua) {
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        Optional<IOException> lost = lease.flatMap(Lease::lost);
        if (lost.isPresent()) {
            return DiskException.failed(new DiskError.Io(lost.get()));
        }
        byte[] data;
        try {
            data = buffers.reader().readAll();
        } catch (RuntimeException e) {
            return DiskException.failed(new DiskError.Io(e));
        }
        // fua needs nothing more: an acknowledged Put Page is durable.
        return done(blob.putPages(offset, data, 0, data.length, lease.map(Lease::id)), writes);
    }

    @Override
    public CompletableFuture<Void> unmap(long offset, long length) {
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        Optional<IOException> lost = lease.flatMap(Lease::lost);
        if (lost.isPresent()) {
            return DiskException.failed(new DiskError.Io(lost.get()));
        }
        return done(blob.clearPages(offset, length, lease.map(Lease::id)), clears);
    }

    /**
     * Nothing to do: every write completed only once Azure acknowledged its Put Page, and an acknowledged Put Page is
     * durable. There is no cache between the disk and the service.
     */
    @Override
    public CompletableFuture<Void> flush() {
        return readOnly ? DiskException.failed(new DiskError.ReadOnly()) : CompletableFuture.completedFuture(null);
    }

    /** Get Page Ranges over at most {@link #MAX_RANGES_SPAN}: the ranges are data, the gaps holes. */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (count == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        long from = sector * BlobDisk.SECTOR_SIZE;
        long span = Math.min(count * BlobDisk.SECTOR_SIZE, MAX_RANGES_SPAN);
        return blob.pageRanges(from, span).handle((ranges, failure) -> {
            if (failure != null) {
                throw error(failure);
            }
            List<AllocationExtent> extents = new ArrayList<>();
            long at = from;
            for (AzureBlob.PageRange r : ranges) {
                if (r.offset() > at) {
                    extents.add(new AllocationExtent((r.offset() - at) / BlobDisk.SECTOR_SIZE, Allocation.HOLE));
                }
                extents.add(new AllocationExtent(r.length() / BlobDisk.SECTOR_SIZE, Allocation.DATA));
                at = r.end();
            }
            if (at < from + span) {
                extents.add(new AllocationExtent((from + span - at) / BlobDisk.SECTOR_SIZE, Allocation.HOLE));
            }
            return extents;
        });
    }

    private CompletableFuture<Void> done(CompletableFuture<Void> request, LongAdder counter) {
        return request.handle((ok, failure) -> {
            if (failure != null) {
                throw error(failure);
            }
            counter.increment();
            return null;
        });
    }

    private DiskException error(Throwable failure) {
        Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        return new DiskException(new DiskError.Io(t), disk);
    }

    @Override
    public void close() {
        LengthPoller p = poller;
        if (p != null) {
            p.close();
        }
        lease.ifPresent(l -> l.close(Duration.ofSeconds(10)));
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("azure", azure.toString())
                .value("page_writes", writes.sum())
                .value("page_clears", clears.sum())
                .value("lease", lease.map(Lease::toString).orElse("none"));
    }
}
