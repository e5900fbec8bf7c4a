package org.diskhost.api;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.diskhost.api.buffers.RequestBuffers;

/** A small array-backed backend for the API's own tests; counts the calls that reach it. */
public class ArrayDiskIo implements DiskIo {
    final byte[] data;
    final int sectorSize;
    int physicalSectorSize;
    boolean readOnly;
    UnmapBehavior unmapBehavior = UnmapBehavior.ZEROES;
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger metadataReads = new AtomicInteger();
    boolean lastFua;
    volatile CompletableFuture<Long> resize = new CompletableFuture<>();

    public ArrayDiskIo(int sectorSize, long sectors) {
        this.sectorSize = sectorSize;
        this.physicalSectorSize = sectorSize;
        this.data = new byte[Math.toIntExact(sectors * sectorSize)];
    }

    @Override
    public String diskType() {
        return "array";
    }

    @Override
    public long sectorCount() {
        return data.length / sectorSize;
    }

    @Override
    public int sectorSize() {
        metadataReads.incrementAndGet();
        return sectorSize;
    }

    @Override
    public Optional<DiskId> diskId() {
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return physicalSectorSize;
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
        return unmapBehavior;
    }

    private boolean outside(long sector, long count) {
        return sector + count > sectorCount();
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        calls.incrementAndGet();
        long count = buffers.length() / sectorSize;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        buffers.writer().write(MemorySegment.ofArray(data).asSlice(sector * sectorSize, count * sectorSize));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        calls.incrementAndGet();
        lastFua = fua;
        long count = buffers.length() / sectorSize;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        buffers.reader().read(MemorySegment.ofArray(data).asSlice(sector * sectorSize, count * sectorSize));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        calls.incrementAndGet();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        calls.incrementAndGet();
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        java.util.Arrays.fill(data, (int) (sector * sectorSize), (int) ((sector + count) * sectorSize), (byte) 0);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        calls.incrementAndGet();
        return resize;
    }
}
