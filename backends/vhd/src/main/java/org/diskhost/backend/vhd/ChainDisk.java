package org.diskhost.backend.vhd;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
import org.diskhost.api.buffers.BufferWriter;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.format.vhd.Guids;

/**
 * A disk served from a chain of image files, top first: a differencing image over its parents, or a single image.
 * A read takes each sector from the topmost file that has it ({@code PRESENT}), zeros where a file says
 * {@code ZERO} or no file has it; writes go to the top file. Only the top file is ever written; the others are open
 * read-only.
 *
 * <p>Metadata: the top file's size, sector sizes and identity. FUA is respected on a writable disk (a FUA write
 * flushes the top file). Unmap deallocates the whole blocks of the range in the top file: with no parent the rest
 * of the range is written with zeros where the top file has data, so unmapped sectors read as zeros
 * ({@link UnmapBehavior#ZEROES}); with a parent a deallocated block shows the parent again and partial blocks are
 * left alone ({@link UnmapBehavior#UNSPECIFIED}); a top file without blocks (fixed VHD, raw) ignores unmap
 * ({@link UnmapBehavior#IGNORED}).
 *
 * <p>Requests run on the disk's own threads, so callers never block; the image files serialize their own
 * allocations.
 */
final class ChainDisk implements DiskIo {
    private static final Logger LOG = Logger.getLogger(ChainDisk.class.getName());
    private static final int MAX_EXTENTS = 1024;
    /** What one byte of a VHD sector bitmap covers: the unit a top file with a parent is written in. */
    private static final long COPY_UNIT = 4096;

    private final String diskType;
    private final String name;
    private final List<ImageFile> chain;
    private final ImageFile top;
    private final boolean readOnly;
    private final int sectorSize;
    private final int sectorShift;
    private final long sectorCount;
    private final UnmapBehavior unmapBehavior;
    private final IoThreads threads;
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder unmapped = new LongAdder();
    private final LongAdder copiedUp = new LongAdder();
    /** Shared by writes to a top file with a parent, held alone by a write that copies up (see writeOverParent). */
    private final ReentrantReadWriteLock copyUpLock = new ReentrantReadWriteLock();

    /**
     * @param diskType {@code "vhd1"} or {@code "vhd"}
     * @param name the top file, for messages and thread names
     * @param chain the open images, top first; the disk owns and closes them
     * @param ioThreads requests that run at once
     */
    ChainDisk(String diskType, String name, List<ImageFile> chain, int ioThreads) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a chain has at least one image");
        }
        this.diskType = diskType;
        this.name = name;
        this.chain = List.copyOf(chain);
        this.top = chain.getFirst();
        this.readOnly = top.readOnly();
        this.sectorSize = top.logicalSectorSize();
        this.sectorShift = Integer.numberOfTrailingZeros(sectorSize);
        this.sectorCount = top.virtualSize() >>> sectorShift;
        this.unmapBehavior = top.blockSize() == 0 || readOnly ? UnmapBehavior.IGNORED
                : chain.size() == 1 ? UnmapBehavior.ZEROES : UnmapBehavior.UNSPECIFIED;
        this.threads = new IoThreads(diskType + " disk " + name, ioThreads);
    }

    List<ImageFile> chain() {
        return chain;
    }

    @Override
    public String diskType() {
        return diskType;
    }

    @Override
    public long sectorCount() {
        return sectorCount;
    }

    @Override
    public int sectorSize() {
        return sectorSize;
    }

    /** The top file's unique id, as the 16 bytes the file stores. */
    @Override
    public Optional<DiskId> diskId() {
        UUID id = top.diskId();
        return id == null ? Optional.empty() : Optional.of(new DiskId(Guids.bytes(id)));
    }

    @Override
    public int physicalSectorSize() {
        return Math.max(sectorSize, top.physicalSectorSize());
    }

    @Override
    public boolean isFuaRespected() {
        return !readOnly;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return unmapBehavior;
    }

    /** A whole block of the top file: less is never deallocated. */
    @Override
    public int optimalUnmapSectors() {
        return Math.max(1, top.blockSize() >>> sectorShift);
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
        BufferWriter writer;
        try {
            buffers.segments(true); // fails at once, with MemoryAccess, for buffers the device may not write
            writer = buffers.writer();
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        }
        long length = count << sectorShift;
        return threads.submit(() -> {
            ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(length));
            readChain(0, sector << sectorShift, data);
            writer.write(MemorySegment.ofBuffer(data.flip()));
            reads.increment();
        });
    }

    /** Fills {@code dst} (position to limit) with the bytes at {@code offset} as the chain from {@code level} has them. */
    private void readChain(int level, long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            ImageFile image = level < chain.size() ? chain.get(level) : null;
            if (image == null || at >= image.virtualSize()) {
                // Below the bottom, or past a smaller parent's end: zeros.
                dst.put(new byte[dst.remaining()]);
                return;
            }
            long want = Math.min(dst.remaining(), image.virtualSize() - at);
            ImageFile.Extent extent = image.extentAt(at, want);
            int n = (int) Math.min(want, extent.length());
            ByteBuffer piece = dst.slice(dst.position(), n);
            switch (extent.state()) {
                case PRESENT -> image.read(at, piece);
                case ABSENT -> readChain(level + 1, at, piece);
                case ZERO -> piece.put(new byte[n]);
            }
            dst.position(dst.position() + n);
            at += n;
        }
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() >>> sectorShift;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long length = count << sectorShift;
        return threads.submit(() -> {
            byte[] data = new byte[Math.toIntExact(length)];
            buffers.reader().read(data, 0, data.length);
            if (chain.size() == 1) {
                top.write(sector << sectorShift, ByteBuffer.wrap(data));
            } else {
                writeOverParent(sector << sectorShift, data);
            }
            if (fua) {
                top.flush();
            }
            writes.increment();
        });
    }

    /**
     * A write to a top file with a parent. Where it covers only part of a {@value #COPY_UNIT}-byte unit the top does
     * not have yet, the rest of the unit is copied up from below first, so the top only ever holds whole units:
     * a VHD sector bitmap byte then marks all eight of its sectors or none, which some readers need (libvhdi
     * 20210425 reads the sectors after a set bit in a partly set byte from the child). Copying up reads then
     * writes sectors the request does not own, so it runs alone: every other write waits meanwhile.
     */
    private void writeOverParent(long offset, byte[] data) throws IOException {
        long end = offset + data.length;
        long unitStart = offset & -COPY_UNIT;
        long unitEnd = Math.min(top.virtualSize(), (end + COPY_UNIT - 1) & -COPY_UNIT);
        copyUpLock.readLock().lock();
        try {
            if (!needsCopyUp(offset, end, unitStart, unitEnd)) {
                top.write(offset, ByteBuffer.wrap(data));
                return;
            }
        } finally {
            copyUpLock.readLock().unlock();
        }
        copyUpLock.writeLock().lock();
        try {
            if (!needsCopyUp(offset, end, unitStart, unitEnd)) {
                top.write(offset, ByteBuffer.wrap(data));
                return;
            }
            ByteBuffer whole = ByteBuffer.allocate(Math.toIntExact(unitEnd - unitStart));
            readChain(0, unitStart, whole.slice(0, (int) (offset - unitStart)));
            whole.put((int) (offset - unitStart), data);
            readChain(0, end, whole.slice((int) (end - unitStart), (int) (unitEnd - end)));
            top.write(unitStart, whole);
            copiedUp.increment();
        } finally {
            copyUpLock.writeLock().unlock();
        }
    }

    /** Whether the partial units at either end of {@code [offset, end)} are not wholly in the top file. */
    private boolean needsCopyUp(long offset, long end, long unitStart, long unitEnd) throws IOException {
        return offset > unitStart && !topHas(unitStart, offset) || end < unitEnd && !topHas(end, unitEnd);
    }

    private boolean topHas(long from, long to) throws IOException {
        ImageFile.Extent extent = top.extentAt(from, to - from);
        return extent.state() == ImageFile.Extent.State.PRESENT && extent.length() >= to - from;
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        if (readOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return threads.submit(top::flush);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0 || unmapBehavior == UnmapBehavior.IGNORED) {
            return CompletableFuture.completedFuture(null);
        }
        return threads.submit(() -> {
            long offset = sector << sectorShift;
            long length = count << sectorShift;
            unmapped.add(top.deallocate(offset, length));
            if (unmapBehavior == UnmapBehavior.ZEROES) {
                ImageRanges.zeroPresent(top, offset, length);
            }
        });
    }

    /**
     * Data where some file of the chain has the sectors, {@link Allocation#ZERO} where the topmost file that speaks
     * for them says zero, {@link Allocation#HOLE} where no file has them. At most {@value #MAX_EXTENTS} extents.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        List<AllocationExtent> extents = new ArrayList<>();
        return threads.submit(() -> {
            long at = sector << sectorShift;
            long end = (sector + count) << sectorShift;
            while (at < end && extents.size() < MAX_EXTENTS) {
                long[] run = allocationAt(at, end - at);
                ImageRanges.add(extents, run[0] >>> sectorShift, Allocation.values()[(int) run[1]]);
                at += run[0];
            }
        }).thenApply(done -> extents);
    }

    /** The run at {@code offset}: its length (at most {@code max}) and its {@link Allocation} ordinal. */
    private long[] allocationAt(long offset, long max) throws IOException {
        long length = max;
        for (ImageFile image : chain) {
            if (offset >= image.virtualSize()) {
                break;
            }
            ImageFile.Extent extent = image.extentAt(offset, Math.min(length, image.virtualSize() - offset));
            length = Math.min(length, extent.length());
            switch (extent.state()) {
                case PRESENT -> {
                    return new long[] {length, Allocation.DATA.ordinal()};
                }
                case ZERO -> {
                    return new long[] {length, Allocation.ZERO.ordinal()};
                }
                case ABSENT -> { } // the next file down decides, within this run
            }
        }
        return new long[] {length, Allocation.HOLE.ordinal()};
    }


    /** Finishes queued requests, then flushes and closes every file; a request still running after 30 s keeps them. */
    @Override
    public void close() {
        if (!threads.shutdown()) {
            LOG.warning(() -> diskType + " disk " + name + ": requests still running; leaving the files open");
            return;
        }
        for (ImageFile image : chain) {
            try {
                image.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, diskType + " disk " + name + ": closing " + image + " failed", e);
            }
        }
    }

    @Override
    public void inspect(Inspector out) {
        for (int i = 0; i < chain.size(); i++) {
            ImageFile image = chain.get(i);
            out.child(chain.size() == 1 ? "image" : "chain[" + i + "]", node -> node.value("path", image.toString())
                    .value("format", image.format())
                    .value("block_size", image.blockSize())
                    .value("read_only", image.readOnly()));
        }
        out.value("reads", reads.sum()).value("writes", writes.sum()).value("bytes_deallocated", unmapped.sum())
                .value("copy_ups", copiedUp.sum());
    }
}
