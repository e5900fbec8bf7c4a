package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.BounceBuffer;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.nativeio.uring.UringSupport;

/**
 * A disk stored in a host file. Its size is the file's length at open, in whole sectors (a trailing partial sector
 * is not part of the disk), and writes never extend the file. With the uring engine, reads, writes, flushes and
 * unmaps go to the disk's own io_uring from the caller and complete from the ring; otherwise (and for allocation
 * maps always) requests run on the disk's own I/O threads. A small read through the page cache (uring engine,
 * without O_DIRECT) is first tried on the caller's thread with {@code preadv2(RWF_NOWAIT)}, which copies from the
 * cache or fails at once, never waiting for the device; only a read that misses goes to the ring. Buffered writes
 * (without O_DIRECT) run on the I/O threads even with a ring: io_uring would punt them to a kernel worker anyway.
 * Either way callers never block, and each transfer is carried to completion (short transfers are continued).
 *
 * <p>FUA writes are durable on completion (per-write O_DSYNC); {@link #syncCache()} is an fsync. Unmap punches holes
 * where the file system can, so unmapped sectors read as zeros; elsewhere unmap is ignored. With {@code direct},
 * I/O bypasses the page cache (O_DIRECT); memory not aligned to the sector size is bounced.
 */
final class FileDisk implements DiskIo {
    private static final Logger LOG = Logger.getLogger(FileDisk.class.getName());

    private final FileOptions options;
    private final FileIo io;
    /** The uring engine's ring, or null for the engines that block on the I/O threads. */
    private final RingFileIo ring;
    /** Small buffered writes on the caller's thread (uring engine, writable, no O_DIRECT); null otherwise. */
    private final InlineWrites inlineWrites;
    /** What became of io_uring for this disk, for inspect output. */
    private final String uringState;
    private final int sectorSize;
    private final int sectorShift;
    private final long sectorCount;
    private final UnmapBehavior unmapBehavior;
    private final ThreadPoolExecutor executor;
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder bounced = new LongAdder();
    private final LongAdder cachedReads = new LongAdder();

    /**
     * Reads up to this size are first tried from the page cache on the caller's thread ({@code preadv2} with
     * {@code RWF_NOWAIT}, uring engine without O_DIRECT): a copy that never waits for the device, and short enough
     * not to hold up the caller. Only what is not cached goes to the ring.
     */
    static final int CACHED_READ_LIMIT = 64 * 1024;

    FileDisk(FileOptions options, FileIo io, RingFileIo ring, String uringState, long fileSize) {
        this.options = options;
        this.io = io;
        this.ring = ring;
        this.inlineWrites = ring != null && !options.direct() && !options.readOnly() ? InlineWrites.fromProc() : null;
        this.uringState = uringState;
        this.sectorSize = options.sectorSize();
        this.sectorShift = Integer.numberOfTrailingZeros(sectorSize);
        this.sectorCount = fileSize >>> sectorShift;
        this.unmapBehavior = !options.readOnly() && io.canPunchHoles() ? UnmapBehavior.ZEROES : UnmapBehavior.IGNORED;
        AtomicInteger threadNumber = new AtomicInteger();
        String threadName = "diskhost-file-" + options.path().getFileName() + "-";
        this.executor = new ThreadPoolExecutor(options.ioThreads(), options.ioThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), task -> {
                    // Platform threads: a blocking native call would pin a virtual thread's carrier.
                    Thread t = new Thread(task, threadName + threadNumber.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
    }

    /**
     * Opens the file described by {@code options}, which must exist. The uring engine needs {@code uring} to be
     * {@link UringSupport.Available} (as {@link FileOptions#parse} checked); when the kernel then refuses this disk a
     * ring, a default engine falls back to threads with a warning, one asked for by name fails.
     */
    static FileDisk open(FileOptions options, UringSupport uring) throws IOException {
        FileIo io = options.engine().isNative()
                ? NativeFileIo.open(options.path(), options.readOnly(), options.direct())
                : ChannelFileIo.open(options.path(), options.readOnly());
        try {
            RingFileIo ring = null;
            String uringState = uring.describe();
            if (options.engine() == FileOptions.Engine.URING && uring instanceof UringSupport.Available available) {
                try {
                    ring = new RingFileIo(available.open("file-" + options.path().getFileName(),
                            RingFileIo.ENTRIES), (NativeFileIo) io, options.path());
                } catch (IOException e) {
                    if (options.engineAsked()) {
                        throw e;
                    }
                    uringState = "no ring for this disk: " + e.getMessage();
                    LOG.warning("file disk " + options.path() + ": using the threads engine, " + uringState);
                }
            }
            return new FileDisk(options, io, ring, uringState, io.size());
        } catch (IOException | RuntimeException e) {
            io.close();
            throw e;
        }
    }

    Path path() {
        return options.path();
    }

    @Override
    public String diskType() {
        return "file";
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
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return Math.max(sectorSize, 4096);
    }

    @Override
    public boolean isFuaRespected() {
        return true;
    }

    @Override
    public boolean isReadOnly() {
        return options.readOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return unmapBehavior;
    }

    @Override
    public int optimalUnmapSectors() {
        return Math.max(1, 4096 >> sectorShift);
    }

    private boolean outside(long sector, long count) {
        return !Disk.fits(sector, count, sectorCount);
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        long count = buffers.length() >>> sectorShift;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long length = count << sectorShift;
        List<MemorySegment> segments;
        try {
            segments = limit(buffers.segments(true), length);
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        }
        long offset = sector << sectorShift;
        if (ring != null && length <= CACHED_READ_LIMIT && usableInPlace(segments)
                && ((NativeFileIo) io).readCached(segments, offset)) {
            // Served from the page cache on the caller's thread: no hand-off to the ring thread and back.
            reads.increment();
            bytesRead.add(length);
            cachedReads.increment();
            return CompletableFuture.completedFuture(null);
        }
        if (ring != null) {
            return async(() -> readRing(buffers, segments, offset, length), () -> {
                reads.increment();
                bytesRead.add(length);
            });
        }
        return submit(() -> {
            if (usableInPlace(segments)) {
                io.read(segments, offset);
            } else {
                bounced.increment();
                try (BounceBuffer bounce = BounceBuffer.allocate(length)) {
                    io.read(List.of(bounce.segment()), offset);
                    buffers.subrange(0, length).writer().write(bounce.segment());
                }
            }
            reads.increment();
            bytesRead.add(length);
        });
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() >>> sectorShift;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (options.readOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long length = count << sectorShift;
        List<MemorySegment> segments;
        try {
            segments = limit(buffers.segments(false), length);
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        }
        long offset = sector << sectorShift;
        if (inlineWrites != null && !fua && usableInPlace(segments) && inlineWrites.tryEnter(offset, length)) {
            // A whole-page copy into the page cache while nothing can make it wait (InlineWrites says when).
            long startedAt = inlineWrites.now();
            try {
                io.write(segments, offset, false);
                writes.increment();
                bytesWritten.add(length);
                return CompletableFuture.completedFuture(null);
            } catch (IOException | RuntimeException e) {
                return CompletableFuture.failedFuture(diskError(e));
            } finally {
                inlineWrites.finished(startedAt);
            }
        }
        // Other buffered writes go to the I/O threads even with a ring: ext4 cannot take them without blocking, so
        // io_uring would hand each to a kernel worker, one more hand-off (NBD 4 KiB writes: +4 to +21%, bench/README).
        if (ring != null && options.direct()) {
            return async(() -> writeRing(buffers, segments, offset, length, fua), () -> {
                writes.increment();
                bytesWritten.add(length);
            });
        }
        return submit(() -> {
            if (usableInPlace(segments)) {
                io.write(segments, offset, fua);
            } else {
                bounced.increment();
                try (BounceBuffer bounce = BounceBuffer.allocate(length)) {
                    buffers.reader().read(bounce.segment());
                    io.write(List.of(bounce.segment()), offset, fua);
                }
            }
            writes.increment();
            bytesWritten.add(length);
        });
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        if (options.readOnly()) {
            return CompletableFuture.completedFuture(null);
        }
        if (ring != null) {
            return async(ring::sync, () -> { });
        }
        return submit(io::sync);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        // Checked here because fallocate succeeds past the end of the file.
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (options.readOnly()) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0 || unmapBehavior == UnmapBehavior.IGNORED) {
            return CompletableFuture.completedFuture(null);
        }
        if (ring != null) {
            return async(() -> ring.punchHole(sector << sectorShift, count << sectorShift), () -> { });
        }
        return submit(() -> io.punchHole(sector << sectorShift, count << sectorShift));
    }

    /**
     * Holes of the file (SEEK_HOLE/SEEK_DATA) are {@link Allocation#HOLE}; everything else is data. A sector that a
     * hole covers only in part is data. At most {@value #MAX_EXTENTS} extents are reported per call.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        List<AllocationExtent> extents = new ArrayList<>();
        return submit(() -> mapAllocation(sector, count, extents)).thenApply(done -> extents);
    }

    private static final int MAX_EXTENTS = 1024;

    private void mapAllocation(long sector, long count, List<AllocationExtent> out) throws IOException {
        long end = (sector + count) << sectorShift;
        long mapped = sector; // sectors before this one are in out
        long position = sector << sectorShift;
        while (position < end && out.size() < MAX_EXTENTS - 1) {
            Optional<FileIo.Run> run = io.runAt(position, end);
            if (run.isEmpty()) {
                break;
            }
            long runEnd = Math.max(run.get().end(), position + 1);
            if (run.get().hole()) {
                long first = (position + sectorSize - 1) >>> sectorShift; // whole sectors inside the hole
                long last = runEnd == end ? sector + count : runEnd >>> sectorShift;
                if (last > first) {
                    add(out, mapped, first, Allocation.DATA);
                    add(out, first, last, Allocation.HOLE);
                    mapped = last;
                }
            }
            position = runEnd;
        }
        add(out, mapped, sector + count, Allocation.DATA);
    }

    private static void add(List<AllocationExtent> out, long from, long to, Allocation allocation) {
        if (to <= from) {
            return;
        }
        int last = out.size() - 1;
        if (last >= 0 && out.get(last).allocation() == allocation) {
            out.set(last, new AllocationExtent(out.get(last).sectorCount() + to - from, allocation));
        } else {
            out.add(new AllocationExtent(to - from, allocation));
        }
    }

    /** Whether the segments can go to the engine as they are, or must be bounced. */
    private boolean usableInPlace(List<MemorySegment> segments) {
        if (!io.needsNativeMemory()) {
            return true;
        }
        for (MemorySegment s : segments) {
            if (!s.isNative()) {
                return false;
            }
            // O_DIRECT: memory aligned like the transfers themselves (the open-time probe checked the sector size).
            if (options.direct() && ((s.address() | s.byteSize()) & (sectorSize - 1)) != 0) {
                return false;
            }
        }
        return true;
    }

    /** The first {@code length} bytes of the segments (a trailing partial sector is not transferred). */
    private static List<MemorySegment> limit(List<MemorySegment> segments, long length) {
        long total = 0;
        for (MemorySegment s : segments) {
            total += s.byteSize();
        }
        if (total == length) {
            return segments; // whole sectors: the usual case, nothing to trim
        }
        List<MemorySegment> out = new ArrayList<>(segments.size());
        long left = length;
        for (MemorySegment s : segments) {
            if (left == 0) {
                break;
            }
            long take = Math.min(left, s.byteSize());
            out.add(take == s.byteSize() ? s : s.asSlice(0, take));
            left -= take;
        }
        return out;
    }

    /** A uring read into the request's memory, through a bounce buffer where the ring cannot use it in place. */
    private CompletableFuture<Void> readRing(RequestBuffers buffers, List<MemorySegment> segments, long offset,
            long length) {
        if (usableInPlace(segments)) {
            return ring.read(segments, offset);
        }
        bounced.increment();
        BounceBuffer bounce = BounceBuffer.allocate(length);
        try {
            return ring.read(List.of(bounce.segment()), offset)
                    .thenRun(() -> buffers.subrange(0, length).writer().write(bounce.segment()))
                    .whenComplete((ok, failure) -> bounce.close());
        } catch (RuntimeException e) {
            bounce.close();
            throw e;
        }
    }

    /** A uring write from the request's memory, through a bounce buffer where the ring cannot use it in place. */
    private CompletableFuture<Void> writeRing(RequestBuffers buffers, List<MemorySegment> segments, long offset,
            long length, boolean fua) {
        if (usableInPlace(segments)) {
            return ring.write(segments, offset, fua);
        }
        bounced.increment();
        BounceBuffer bounce = BounceBuffer.allocate(length);
        try {
            buffers.reader().read(bounce.segment());
            return ring.write(List.of(bounce.segment()), offset, fua).whenComplete((ok, failure) -> bounce.close());
        } catch (RuntimeException e) {
            bounce.close();
            throw e;
        }
    }

    /**
     * Starts a uring request and gives its outcome as the disk's: {@code counted} runs on success (on the ring's
     * thread, so it must be short), failures become {@link DiskError.Io} as on the I/O threads.
     */
    private CompletableFuture<Void> async(Supplier<CompletableFuture<Void>> request,
            Runnable counted) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        CompletableFuture<Void> started;
        try {
            started = request.get();
        } catch (RuntimeException e) {
            result.completeExceptionally(diskError(e));
            return result;
        }
        started.whenComplete((ok, failure) -> {
            if (failure == null) {
                counted.run();
                result.complete(null);
            } else {
                result.completeExceptionally(diskError(
                        failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure));
            }
        });
        return result;
    }

    /** A failed request as the disk reports it: a {@link DiskException} passes, anything else is an I/O error. */
    private DiskException diskError(Throwable failure) {
        return failure instanceof DiskException e ? e
                : new DiskException(new DiskError.Io(failure), options.path().toString());
    }

    @FunctionalInterface
    private interface Blocking {
        void run() throws IOException;
    }

    private CompletableFuture<Void> submit(Blocking request) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (inlineWrites != null) {
            inlineWrites.threadRequestStarted();
        }
        try {
            executor.execute(() -> {
                try {
                    request.run();
                    result.complete(null);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(diskError(e));
                } finally {
                    if (inlineWrites != null) {
                        inlineWrites.threadRequestEnded();
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            if (inlineWrites != null) {
                inlineWrites.threadRequestEnded();
            }
            result.completeExceptionally(new DiskException(
                    new DiskError.Io(new IOException("file disk " + options.path() + " is closed"))));
        }
        return result;
    }

    /**
     * Finishes queued requests, then closes the file; a request still running after 30 s keeps it open. Closed from
     * a stage running on the disk's ring thread, the ring and the file are closed on a thread of their own.
     */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                // Closing the descriptor under a running request could let it hit a reused descriptor number.
                LOG.warning(() -> "file disk " + options.path() + ": requests still running; leaving the file open");
                return;
            }
            if (ring != null) {
                try {
                    ring.close(); // waits for every request submitted
                } catch (IllegalStateException onRingThread) {
                    Thread.ofPlatform().name("diskhost-file-close").start(() -> {
                        ring.close();
                        closeFile();
                    });
                    return;
                }
            }
            closeFile();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeFile() {
        try {
            io.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "file disk " + options.path() + ": close failed", e);
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("path", options.path().toString())
                .value("engine", ring == null ? io.name() : options.direct() ? "uring (O_DIRECT)" : "uring")
                .value("io_uring", ring == null ? uringState : ring.toString())
                .value("io_threads", options.ioThreads())
                .value("reads", reads.sum())
                .value("writes", writes.sum())
                .value("bytes_read", bytesRead.sum())
                .value("bytes_written", bytesWritten.sum())
                .value("bounced_requests", bounced.sum())
                .value("cached_reads", cachedReads.sum())
                .value("inline_writes", inlineWrites == null ? 0 : inlineWrites.inlined())
                .value("inline_write_stalls", inlineWrites == null ? 0 : inlineWrites.stalls());
    }
}
