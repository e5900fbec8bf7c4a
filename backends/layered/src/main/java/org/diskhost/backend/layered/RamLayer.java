package org.diskhost.backend.layered;

import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.BufferReader;
import org.diskhost.api.buffers.BufferWriter;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;
import org.diskhost.api.layer.WriteNoOverwrite;

/**
 * A layer in memory (reference: RamDiskLayer, layer kind {@code ram}). A sector is present once written. Above the
 * <em>zero-after</em> watermark, which starts at the size, sectors that are not present read as zeros and count as
 * present, hiding the layers below: that is what a shrink followed by a grow, or an unmap to the end, leaves. Unmap
 * behaviour is unspecified: an unmap that would have to store zeros over non-zero layers below is ignored.
 *
 * <p>Storage: chunks of up to 4 KiB of sectors in a hash map, each with a bitmap of its present sectors, so a 4 KiB
 * request touches one or two chunks. Requests run on the caller's thread. A resize excludes every request; requests
 * otherwise run concurrently, each chunk copied under its own lock so no sector is torn.
 */
final class RamLayer implements LayerIo {
    /** How many bytes of sectors a chunk holds (at least one sector). */
    private static final int CHUNK_BYTES = 4096;
    /** The most sectors one allocation answer covers, to bound its work. */
    private static final long MAX_ALLOCATION_SECTORS = 1 << 20;

    private final int sectorSize;
    private final int shift;
    /** Sectors per chunk: a power of two, at most 64 (one bitmap word). */
    private final int perChunk;
    private final int chunkShift;
    /** The stored chunks by index (see {@link #newChunk}); handed to the successor layer as it is. */
    private final ConcurrentHashMap<Long, long[]> chunks;
    /** Read by requests (shared), written by resizes (exclusive). */
    private final ReentrantReadWriteLock resizeLock = new ReentrantReadWriteLock();
    private volatile long sectorCount;
    private final AtomicLong zeroAfter;
    /** Completed and replaced at each resize. Guarded by this. */
    private CompletableFuture<Void> resized = new CompletableFuture<>();

    /**
     * Word 0 of a chunk: bit {@code i} is set when sector {@code i} of the chunk is present; this bit marks a chunk
     * an unmap removed from the map, so a writer that finds it must look the chunk up again. (A chunk holds at most
     * eight sectors.)
     */
    private static final long DEAD = 1L << 63;

    /** The handover format of a RAM layer's contents. Version 1: see {@link #export()}. */
    static final String HANDOVER_FORMAT = "org.diskhost.ram";
    private static final int HANDOVER_VERSION = 1;
    /** The size the layer was built for (by settings or a runtime size), as opposed to a later resize. */
    private long requestedSectors;
    /**
     * Set when the chunks came from a predecessor or went to a successor: closing must not clear them then, since
     * another layer has them (or a rebuild that failed will offer them again).
     */
    private volatile boolean shared;

    private final Runnable onClose;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    RamLayer(RamGeometry geometry) {
        this(geometry, () -> { });
    }

    /** A layer that runs {@code onClose} once when it is closed. */
    RamLayer(RamGeometry geometry, Runnable onClose) {
        this(geometry, onClose, new ConcurrentHashMap<>());
    }

    private RamLayer(RamGeometry geometry, Runnable onClose, ConcurrentHashMap<Long, long[]> chunks) {
        this.onClose = onClose;
        this.chunks = chunks;
        this.sectorSize = geometry.sectorSize();
        this.shift = Integer.numberOfTrailingZeros(sectorSize);
        this.perChunk = Math.max(1, CHUNK_BYTES / sectorSize);
        this.chunkShift = Integer.numberOfTrailingZeros(perChunk);
        this.sectorCount = geometry.sectorCount();
        this.zeroAfter = new AtomicLong(geometry.sectorCount());
        this.requestedSectors = geometry.sectorCount();
    }

    /**
     * The contents for the layer that replaces this one when the chain is rebuilt: sector size, size, the size it
     * was built for, the zero-after watermark, and the chunk map itself, handed over without a copy (this layer is
     * drained, and closing it leaves the map alone), so a swap costs the same whatever the layer holds.
     */
    HandoverState export() {
        resizeLock.writeLock().lock();
        try {
            shared = true;
            return new HandoverState(HANDOVER_FORMAT, HANDOVER_VERSION, Map.of("sectorSize", sectorSize,
                    "sectorCount", sectorCount, "requestedSectors", requestedSectors, "zeroAfter", zeroAfter.get(),
                    "chunks", chunks));
        } finally {
            resizeLock.writeLock().unlock();
        }
    }

    /**
     * A layer with the contents its predecessor {@linkplain #export() exported}. It keeps the predecessor's size
     * (which a runtime resize may have changed) unless {@code geometry} asks for another size than the predecessor
     * was built for: then the settings changed, and the layer is resized to them as a runtime resize would.
     *
     * @throws IllegalArgumentException when the state is not a RAM layer's, or does not fit this geometry
     */
    static RamLayer restore(RamGeometry geometry, HandoverState state, Runnable onClose) {
        state.require(HANDOVER_FORMAT, HANDOVER_VERSION);
        int sectorSize = state.integer("sectorSize");
        if (sectorSize != geometry.sectorSize()) {
            throw new IllegalArgumentException("the handed-over RAM layer has " + sectorSize
                    + "-byte sectors, this one " + geometry.sectorSize());
        }
        long count = state.number("sectorCount");
        if (!(state.value("chunks", Map.class) instanceof ConcurrentHashMap<?, ?> handed)) {
            throw new IllegalArgumentException("the handed-over RAM layer's chunks are not a ConcurrentHashMap");
        }
        @SuppressWarnings("unchecked")
        ConcurrentHashMap<Long, long[]> chunks = (ConcurrentHashMap<Long, long[]>) handed;
        RamLayer layer = new RamLayer(new RamGeometry(sectorSize, count), onClose, chunks);
        layer.shared = true;
        // The chunk layout follows from the format version and the sector size, both checked above; a layout change
        // must bump the version. So one chunk is checked as a guard against a wrong exporter, not every chunk: the
        // pause of a swap must not grow with what the layer holds.
        int words = layer.newChunk().length;
        long chunkCount = (count + layer.perChunk - 1) >>> layer.chunkShift;
        for (Map.Entry<?, ?> e : handed.entrySet()) {
            if (!(e.getKey() instanceof Long index && e.getValue() instanceof long[] chunk)
                    || index < 0 || index >= chunkCount || chunk.length != words) {
                throw new IllegalArgumentException("the handed-over RAM layer's chunk " + e.getKey()
                        + " does not fit a layer of " + count + " sectors");
            }
            break;
        }
        layer.zeroAfter.set(Math.min(state.number("zeroAfter"), count));
        long requested = state.number("requestedSectors");
        if (geometry.sectorCount() != requested) {
            layer.resize(geometry.sectorCount());
        }
        layer.requestedSectors = geometry.sectorCount();
        return layer;
    }

    /** A chunk: the present bits (and {@link #DEAD}) in word 0, the sectors' bytes in the words after it. */
    private long[] newChunk() {
        return new long[1 + ((perChunk << shift) >>> 3)];
    }

    /** The sectors' bytes of a chunk. */
    private static MemorySegment dataOf(long[] chunk) {
        return MemorySegment.ofArray(chunk).asSlice(Long.BYTES);
    }

    @Override
    public String layerType() {
        return "ram";
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
        return sectorSize;
    }

    @Override
    public boolean isFuaRespected() {
        return true; // nothing is more durable than memory gets
    }

    @Override
    public boolean isLogicallyReadOnly() {
        return false;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return UnmapBehavior.UNSPECIFIED;
    }

    @Override
    public Optional<WriteNoOverwrite> writeNoOverwrite() {
        return Optional.of((buffers, sector) -> store(buffers, sector, false));
    }

    @Override
    public CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker) {
        long count = buffers.length() >>> shift;
        resizeLock.readLock().lock();
        try {
            checkRange(sector, count);
            if (count == 0) {
                return CompletableFuture.completedFuture(null);
            }
            long zeroFrom = zeroAfter.get();
            BufferWriter out = buffers.writer();
            forEachChunk(sector, sector + count, (index, s, offset, n) -> {
                long[] chunk = chunks.get(index);
                if (chunk == null) {
                    absent(out, marker, s, n, zeroFrom);
                } else {
                    synchronized (chunk) {
                        readChunk(chunk, out, marker, s, offset, n, zeroFrom);
                    }
                }
            });
            return CompletableFuture.completedFuture(null);
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            resizeLock.readLock().unlock();
        }
    }

    /** A request's part in chunk {@code index}: {@code n} sectors from {@code first}, at {@code offset} in the chunk. */
    @FunctionalInterface
    private interface ChunkPart {
        void accept(long index, long first, int offset, int n);
    }

    /** Splits sectors {@code [from, to)} at chunk boundaries, in order. */
    private void forEachChunk(long from, long to, ChunkPart part) {
        for (long s = from; s < to;) {
            int offset = (int) (s & (perChunk - 1));
            int n = (int) Math.min(perChunk - offset, to - s);
            part.accept(s >>> chunkShift, s, offset, n);
            s += n;
        }
    }

    /** Copies the present runs of {@code n} sectors from {@code s} (at {@code offset} in the chunk). */
    private void readChunk(long[] chunk, BufferWriter out, SectorMarker marker, long s, int offset, int n,
            long zeroFrom) {
        int i = 0;
        while (i < n) {
            boolean present = isPresent(chunk, offset + i);
            int j = i + 1;
            while (j < n && isPresent(chunk, offset + j) == present) {
                j++;
            }
            if (present) {
                out.write(dataOf(chunk).asSlice((long) (offset + i) << shift,
                        (long) (j - i) << shift));
                marker.setRange(s + i, j - i);
            } else {
                absent(out, marker, s + i, j - i, zeroFrom);
            }
            i = j;
        }
    }

    /** {@code n} sectors from {@code s} that are not stored: skipped below the watermark, zeros from it on. */
    private void absent(BufferWriter out, SectorMarker marker, long s, int n, long zeroFrom) {
        int below = (int) Math.max(0, Math.min(n, zeroFrom - s));
        if (below > 0) {
            out.skip((long) below << shift);
        }
        if (below < n) {
            out.zero((long) (n - below) << shift);
            marker.setRange(s + below, n - below);
        }
    }

    /**
     * {@code DATA} for stored sectors, {@code HOLE} for the others below the watermark (the layers below show
     * through), {@code ZERO} from the watermark on. At most {@value #MAX_ALLOCATION_SECTORS} sectors per answer.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        resizeLock.readLock().lock();
        try {
            checkRange(sector, count);
            long zeroFrom = zeroAfter.get();
            ExtentList out = new ExtentList();
            forEachChunk(sector, sector + Math.min(count, MAX_ALLOCATION_SECTORS), (index, s, offset, n) -> {
                long[] chunk = chunks.get(index);
                if (chunk == null) {
                    long below = Math.max(0, Math.min(n, zeroFrom - s));
                    out.add(Allocation.HOLE, below).add(Allocation.ZERO, n - below);
                    return;
                }
                synchronized (chunk) {
                    for (int i = 0; i < n; i++) {
                        out.add(isPresent(chunk, offset + i) ? Allocation.DATA
                                : s + i >= zeroFrom ? Allocation.ZERO : Allocation.HOLE, 1);
                    }
                }
            });
            return CompletableFuture.completedFuture(out.list());
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            resizeLock.readLock().unlock();
        }
    }

    private static boolean isPresent(long[] chunk, int index) {
        return (chunk[0] & (1L << index)) != 0;
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua) {
        return store(buffers, sector, true);
    }

    /** Stores sectors; without {@code overwrite}, only those not present. */
    private CompletableFuture<Void> store(RequestBuffers buffers, long sector, boolean overwrite) {
        long count = buffers.length() >>> shift;
        resizeLock.readLock().lock();
        try {
            checkRange(sector, count);
            BufferReader in = buffers.reader();
            forEachChunk(sector, sector + count, (index, s, offset, n) -> storeChunk(index, in, offset, n, overwrite));
            return CompletableFuture.completedFuture(null);
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            resizeLock.readLock().unlock();
        }
    }

    private void storeChunk(long index, BufferReader in, int offset, int n, boolean overwrite) {
        long bits = bits(offset, n);
        while (true) {
            long[] chunk = chunks.computeIfAbsent(index, k -> newChunk());
            synchronized (chunk) {
                if ((chunk[0] & DEAD) != 0) {
                    continue; // an unmap removed it meanwhile
                }
                MemorySegment data = dataOf(chunk);
                if (overwrite || (chunk[0] & bits) == 0) {
                    in.read(data.asSlice((long) offset << shift, (long) n << shift));
                } else {
                    for (int i = offset; i < offset + n; i++) {
                        if (isPresent(chunk, i)) {
                            in.skip(sectorSize);
                        } else {
                            in.read(data.asSlice((long) i << shift, sectorSize));
                        }
                    }
                }
                chunk[0] |= bits;
                return;
            }
        }
    }

    private static long bits(int offset, int n) {
        return (n == 64 ? -1L : (1L << n) - 1) << offset;
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Drops the sectors. Without {@code nextIsZero}, dropping would show non-zero layers below, so an unmap that
     * ends below the watermark is ignored (a hole of zeros cannot be stored), and one that reaches it lowers the
     * watermark to its start first.
     */
    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero) {
        resizeLock.readLock().lock();
        try {
            checkRange(sector, count);
            if (count == 0) {
                return CompletableFuture.completedFuture(null);
            }
            long end = sector + count;
            if (!nextIsZero) {
                if (end < zeroAfter.get()) {
                    return CompletableFuture.completedFuture(null);
                }
                zeroAfter.accumulateAndGet(sector, Math::min);
            }
            drop(sector, end);
            return CompletableFuture.completedFuture(null);
        } catch (DiskException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            resizeLock.readLock().unlock();
        }
    }

    /** Makes sectors {@code [from, to)} not present. */
    private void drop(long from, long to) {
        long first = from >>> chunkShift;
        long last = (to - 1) >>> chunkShift;
        if (last - first + 1 > chunks.size()) { // a wide range over few chunks: walk the chunks instead
            for (Iterator<Map.Entry<Long, long[]>> it = chunks.entrySet().iterator(); it.hasNext();) {
                Map.Entry<Long, long[]> e = it.next();
                if (e.getKey() >= first && e.getKey() <= last) {
                    dropInChunk(e.getKey(), e.getValue(), from, to);
                }
            }
        } else {
            for (long index = first; index <= last; index++) {
                long[] chunk = chunks.get(index);
                if (chunk != null) {
                    dropInChunk(index, chunk, from, to);
                }
            }
        }
    }

    private void dropInChunk(long index, long[] chunk, long from, long to) {
        long base = index << chunkShift;
        int offset = (int) Math.max(0, from - base);
        int stop = (int) Math.min(perChunk, to - base);
        synchronized (chunk) {
            chunk[0] &= ~bits(offset, stop - offset);
            if (chunk[0] == 0) {
                chunk[0] = DEAD;
                chunks.remove(index, chunk);
            }
        }
    }

    /**
     * Changes the size. Sectors at or beyond the new size are dropped and the watermark is lowered to it, so after a
     * shrink and a grow the new sectors read as zeros, not as the layers below. Wakes {@link #waitResize} waiters.
     *
     * @throws IllegalArgumentException if {@code newSectorCount} is 0 or its bytes exceed 2^63 - 1
     */
    void resize(long newSectorCount) {
        if (newSectorCount <= 0 || newSectorCount > Long.MAX_VALUE >>> shift) {
            throw new IllegalArgumentException("a RAM layer's size must be 1 to " + (Long.MAX_VALUE >>> shift)
                    + " sectors, not " + newSectorCount);
        }
        CompletableFuture<Void> wake;
        resizeLock.writeLock().lock();
        try {
            if (newSectorCount < sectorCount) {
                drop(newSectorCount, sectorCount);
            }
            zeroAfter.accumulateAndGet(newSectorCount, Math::min);
            sectorCount = newSectorCount;
            synchronized (this) {
                wake = resized;
                resized = new CompletableFuture<>();
            }
        } finally {
            resizeLock.writeLock().unlock();
        }
        wake.complete(null);
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

    /** How many sectors are stored (not counting the zeros above the watermark). */
    long presentSectors() {
        long n = 0;
        for (long[] chunk : chunks.values()) {
            synchronized (chunk) {
                n += Long.bitCount(chunk[0] & ~DEAD);
            }
        }
        return n;
    }

    /** Frees the memory; later requests see an empty layer. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            onClose.run();
            if (!shared) {
                chunks.clear();
            }
        }
    }

    long zeroAfter() {
        return zeroAfter.get();
    }

    @Override
    public void inspect(Inspector out) {
        out.value("zero_after", zeroAfter.get()).value("stored_bytes", (long) chunks.size() * (perChunk << shift));
    }

    private void checkRange(long sector, long count) {
        if (!Disk.fits(sector, count, sectorCount)) {
            throw new DiskException(new DiskError.IllegalBlock());
        }
    }
}
