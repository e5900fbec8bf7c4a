package org.diskhost.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * An in-memory {@link DiskIo} for testing decorators and frontends. Its content is a native segment sized for
 * {@code capacitySectors}; the visible sector count can be changed at runtime with {@link #resize}, which wakes
 * {@link #waitResize} waiters. Requests complete on the given executor (by default at once, on the caller).
 * Unmapped sectors read as zeros. It counts requests, for tests that check what reached the disk.
 */
public final class MemoryDisk implements DiskIo {
    private final MemorySegment data;
    private final int sectorSize;
    private final long capacitySectors;
    private final boolean readOnly;
    private final Executor executor;
    private final Optional<DiskId> diskId;
    private volatile long sectorCount;
    private CompletableFuture<Void> resized = new CompletableFuture<>();
    private final AtomicLong requests = new AtomicLong();

    private MemoryDisk(Builder b) {
        this.sectorSize = b.sectorSize;
        this.capacitySectors = Math.max(b.sectorCount, b.capacitySectors);
        this.sectorCount = b.sectorCount;
        this.readOnly = b.readOnly;
        this.executor = b.executor;
        this.diskId = Optional.ofNullable(b.diskId);
        this.data = Arena.ofAuto().allocate(capacitySectors * sectorSize, 4096);
    }

    /** A writable disk of {@code sectorCount} sectors of {@code sectorSize} bytes. */
    public static MemoryDisk of(int sectorSize, long sectorCount) {
        return builder(sectorSize, sectorCount).build();
    }

    public static Builder builder(int sectorSize, long sectorCount) {
        return new Builder(sectorSize, sectorCount);
    }

    /** Options for a {@link MemoryDisk}. */
    public static final class Builder {
        private final int sectorSize;
        private final long sectorCount;
        private long capacitySectors;
        private boolean readOnly;
        private Executor executor = Runnable::run;
        private DiskId diskId;

        private Builder(int sectorSize, long sectorCount) {
            this.sectorSize = sectorSize;
            this.sectorCount = sectorCount;
        }

        /** Room to grow to with {@link MemoryDisk#resize}. */
        public Builder capacity(long sectors) {
            this.capacitySectors = sectors;
            return this;
        }

        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        /** Completes requests on {@code executor}, to exercise asynchronous callers. */
        public Builder completeOn(Executor executor) {
            this.executor = executor;
            return this;
        }

        /**
         * Completes requests on a pool of four daemon threads that all such disks share (never on the caller), to
         * exercise asynchronous callers without a pool of the test's own to shut down.
         */
        public Builder completeAsync() {
            return completeOn(AsyncPool.EXECUTOR);
        }

        public Builder diskId(DiskId diskId) {
            this.diskId = diskId;
            return this;
        }

        public MemoryDisk build() {
            return new MemoryDisk(this);
        }
    }

    /** The pool of {@link Builder#completeAsync()}, started on first use. */
    private static final class AsyncPool {
        static final Executor EXECUTOR = Executors.newFixedThreadPool(4, Thread.ofPlatform().daemon()
                .name("memory-disk-", 0).factory());
    }

    /** The whole backing memory, for tests that inspect or plant content directly. */
    public MemorySegment content() {
        return data.asSlice(0, sectorCount * sectorSize);
    }

    /** Requests that reached this disk. */
    public long requests() {
        return requests.get();
    }

    /** Changes the visible size (up to the capacity); sectors beyond a shrink read as zeros after a regrow. */
    public void resize(long newSectorCount) {
        if (newSectorCount < 0 || newSectorCount > capacitySectors) {
            throw new IllegalArgumentException("size " + newSectorCount + " outside 0.." + capacitySectors);
        }
        CompletableFuture<Void> wake;
        synchronized (this) {
            if (newSectorCount < sectorCount) {
                data.asSlice(newSectorCount * sectorSize, (sectorCount - newSectorCount) * sectorSize).fill((byte) 0);
            }
            sectorCount = newSectorCount;
            wake = resized;
            resized = new CompletableFuture<>();
        }
        wake.complete(null);
    }

    @Override
    public String diskType() {
        return "memory";
    }

    @Override
    public long sectorCount() {
        return sectorCount;
    }

    @Override
    public int sectorSize() {
        return sectorSize;
    }

    @Override
    public Optional<DiskId> diskId() {
        return diskId;
    }

    @Override
    public int physicalSectorSize() {
        return sectorSize;
    }

    @Override
    public boolean isFuaRespected() {
        return true;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return UnmapBehavior.ZEROES;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return run(() -> {
            long count = buffers.length() / sectorSize;
            checkRange(sector, count);
            buffers.writer().write(data.asSlice(sector * sectorSize, count * sectorSize));
        });
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return run(() -> {
            long count = buffers.length() / sectorSize;
            checkRange(sector, count);
            checkWritable();
            buffers.reader().read(data.asSlice(sector * sectorSize, count * sectorSize));
        });
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return run(() -> { });
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        return run(() -> {
            checkRange(sector, count);
            checkWritable();
            data.asSlice(sector * sectorSize, count * sectorSize).fill((byte) 0);
        });
    }

    @Override
    public CompletableFuture<Long> waitResize(long knownCount) {
        CompletableFuture<Void> next;
        synchronized (this) {
            if (sectorCount != knownCount) {
                return CompletableFuture.completedFuture(sectorCount);
            }
            next = resized;
        }
        return next.thenCompose(v -> waitResize(knownCount));
    }

    @Override
    public void inspect(Inspector out) {
        out.value("capacity_sectors", capacitySectors).value("requests", requests.get());
    }

    private void checkRange(long sector, long count) {
        if (!Disk.fits(sector, count, sectorCount)) {
            throw new DiskException(new DiskError.IllegalBlock());
        }
    }

    private void checkWritable() {
        if (readOnly) {
            throw new DiskException(new DiskError.ReadOnly());
        }
    }

    private CompletableFuture<Void> run(Runnable request) {
        requests.incrementAndGet();
        return CompletableFuture.runAsync(request, executor);
    }
}
