package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
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

/**
 * A disk stored in a host file. Its size is the file's length at open, in whole sectors (a trailing partial sector
 * is not part of the disk), and writes never extend the file. Requests run on the disk's own I/O threads, so callers
 * never block; each transfer is carried to completion (short transfers are continued).
 *
 * <p>FUA writes are durable on completion (per-write O_DSYNC); {@link #syncCache()} is an fsync. Unmap punches holes
 * where the file system can, so unmapped sectors read as zeros; elsewhere unmap is ignored. With {@code direct},
 * I/O bypasses the page cache (O_DIRECT); memory not aligned to the sector size is bounced.
 */
final class FileDisk implements DiskIo {
    private static final Logger LOG = Logger.getLogger(FileDisk.class.getName());

    private final FileOptions options;
    private final FileIo io;
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

    FileDisk(FileOptions options, FileIo io, long fileSize) {
        this.options = options;
        this.io = io;
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

    /** Opens the file described by {@code options}, which must exist. */
    static FileDisk open(FileOptions options) throws IOException {
        FileIo io = options.nativeEngine()
                ? NativeFileIo.open(options.path(), options.readOnly(), options.direct())
                : ChannelFileIo.open(options.path(), options.readOnly());
        try {
            return new FileDisk(options, io, io.size());
        } catch (RuntimeException e) {
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
        return submit(() -> {
            if (usableInPlace(segments)) {
                io.read(segments, sector << sectorShift);
            } else {
                bounced.increment();
                try (BounceBuffer bounce = BounceBuffer.allocate(length)) {
                    io.read(List.of(bounce.segment()), sector << sectorShift);
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
        return submit(() -> {
            if (usableInPlace(segments)) {
                io.write(segments, sector << sectorShift, fua);
            } else {
                bounced.increment();
                try (BounceBuffer bounce = BounceBuffer.allocate(length)) {
                    buffers.reader().read(bounce.segment());
                    io.write(List.of(bounce.segment()), sector << sectorShift, fua);
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

    @FunctionalInterface
    private interface Blocking {
        void run() throws IOException;
    }

    private CompletableFuture<Void> submit(Blocking request) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    request.run();
                    result.complete(null);
                } catch (DiskException e) {
                    result.completeExceptionally(e);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(new DiskException(new DiskError.Io(e), options.path().toString()));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new DiskException(
                    new DiskError.Io(new IOException("file disk " + options.path() + " is closed"))));
        }
        return result;
    }

    /** Finishes queued requests, then closes the file; a request still running after 30 s keeps it open. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                // Closing the descriptor under a running request could let it hit a reused descriptor number.
                LOG.warning(() -> "file disk " + options.path() + ": requests still running; leaving the file open");
                return;
            }
            io.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "file disk " + options.path() + ": close failed", e);
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("path", options.path().toString())
                .value("engine", io.name())
                .value("io_threads", options.ioThreads())
                .value("reads", reads.sum())
                .value("writes", writes.sum())
                .value("bytes_read", bytesRead.sum())
                .value("bytes_written", bytesWritten.sum())
                .value("bounced_requests", bounced.sum());
    }
}
