package org.diskhost.backend.layer.sqlite;

import java.lang.foreign.MemorySegment;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

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
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;
import org.diskhost.api.layer.WriteNoOverwrite;

/**
 * A layer in a SQLite file (reference: the SQLite layer, layer kind {@code sqlite}; for development and tests, with
 * no promise of format stability). A sector is present when it has a row; a NULL row is a present sector of zeros,
 * which is how an unmap over non-zero layers below is stored, so unmapped sectors read as zeros. FUA is not
 * respected: a flush makes writes durable. Every request runs on the layer's own thread (a JDBC connection serves one
 * thread at a time), so callers are never blocked.
 */
final class SqliteLayer implements LayerIo {
    private final SqliteStore store;
    private final SqliteMeta meta;
    private final int shift;
    private final ExecutorService thread;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The most sectors one allocation answer covers, to bound its work. */
    private static final long MAX_ALLOCATION_SECTORS = 1 << 20;

    SqliteLayer(SqliteStore store, SqliteMeta meta) {
        this.store = store;
        this.meta = meta;
        this.shift = Integer.numberOfTrailingZeros(meta.sectorSize());
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "diskhost-sqlite " + store.path().getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String layerType() {
        return "sqlite";
    }

    @Override
    public long sectorCount() {
        return meta.sectorCount();
    }

    @Override
    public int sectorSize() {
        return meta.sectorSize();
    }

    @Override
    public Optional<DiskId> diskId() {
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return meta.sectorSize();
    }

    @Override
    public boolean isFuaRespected() {
        return false;
    }

    @Override
    public boolean isLogicallyReadOnly() {
        return meta.logicallyReadOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return UnmapBehavior.ZEROES;
    }

    @Override
    public Optional<WriteNoOverwrite> writeNoOverwrite() {
        return Optional.of((buffers, sector) -> store(buffers, sector, false));
    }

    @Override
    public CompletableFuture<Void> read(RequestBuffers buffers, long sector, SectorMarker marker) {
        long count = buffers.length() >>> shift;
        return run(sector, count, false, () -> {
            BufferWriter out = buffers.writer();
            long[] next = {sector}; // the first sector the writer has not passed
            store.read(sector, sector + count, (s, data) -> {
                if (data != null && data.length != meta.sectorSize()) {
                    throw new SQLException("sector " + s + " holds " + data.length + " bytes, not "
                            + meta.sectorSize());
                }
                out.skip((s - next[0]) << shift);
                if (data == null) {
                    out.zero(meta.sectorSize());
                } else {
                    out.write(MemorySegment.ofArray(data));
                }
                marker.set(s);
                next[0] = s + 1;
            });
        });
    }

    /**
     * {@code DATA} for rows with data, {@code ZERO} for NULL rows, {@code HOLE} where there is no row (the layers
     * below show through). At most {@value #MAX_ALLOCATION_SECTORS} sectors per answer.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        long end = sector + Math.min(count, MAX_ALLOCATION_SECTORS);
        List<AllocationExtent> out = new ArrayList<>();
        return run(sector, count, false, () -> {
            long[] next = {sector};
            store.presence(sector, end, (s, zero) -> {
                add(out, Allocation.HOLE, s - next[0]);
                add(out, zero ? Allocation.ZERO : Allocation.DATA, 1);
                next[0] = s + 1;
            });
            add(out, Allocation.HOLE, end - next[0]);
        }).thenApply(v -> out);
    }

    /** Appends a run, joining it to the last one when they match. */
    private static void add(List<AllocationExtent> out, Allocation allocation, long count) {
        if (count <= 0) {
            return;
        }
        AllocationExtent last = out.isEmpty() ? null : out.getLast();
        if (last != null && last.allocation() == allocation) {
            out.set(out.size() - 1, new AllocationExtent(last.sectorCount() + count, allocation));
        } else {
            out.add(new AllocationExtent(count, allocation));
        }
    }

    @Override
    public CompletableFuture<Void> write(RequestBuffers buffers, long sector, boolean fua) {
        return store(buffers, sector, true);
    }

    private CompletableFuture<Void> store(RequestBuffers buffers, long sector, boolean overwrite) {
        long count = buffers.length() >>> shift;
        return run(sector, count, overwrite, () -> {
            if (count > Integer.MAX_VALUE) {
                throw new DiskException(new DiskError.InvalidInput(), "a write of more than 2^31 sectors");
            }
            BufferReader in = buffers.reader();
            store.write(sector, (int) count, overwrite, i -> {
                byte[] data = new byte[meta.sectorSize()];
                in.read(data, 0, data.length);
                return isZero(data) ? null : data;
            });
        });
    }

    private static boolean isZero(byte[] data) {
        return MemorySegment.ofArray(data).mismatch(MemorySegment.ofArray(new byte[data.length])) == -1;
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return run(0, 0, false, store::sync);
    }

    /**
     * With {@code nextIsZero} the rows go (the sectors are no longer present); otherwise NULL rows make them present
     * zeros. A count of 0 changes nothing (the reference's end computation underflows on it).
     */
    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly, boolean nextIsZero) {
        return run(sector, count, true, () -> {
            if (count == 0) {
                return;
            }
            if (nextIsZero) {
                store.delete(sector, sector + count);
            } else {
                store.zero(sector, sector + count);
            }
        });
    }

    @FunctionalInterface
    private interface Request {
        void run() throws SQLException;
    }

    /**
     * Checks the range (and, for a change, that the layer is writable) on the caller's thread, then runs the
     * request on the layer's thread. A store failure is an {@code Io} error.
     */
    private CompletableFuture<Void> run(long sector, long count, boolean changes, Request request) {
        if (!Disk.fits(sector, count, meta.sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (changes && meta.logicallyReadOnly()) {
            return DiskException.failed(new DiskError.ReadOnly(), "the SQLite layer is logically read-only");
        }
        try {
            return CompletableFuture.runAsync(() -> {
                try {
                    request.run();
                } catch (SQLException e) {
                    throw new DiskException(new DiskError.Io(e), store.path().toString());
                }
            }, thread);
        } catch (RejectedExecutionException e) {
            return DiskException.failed(new DiskError.Io(e), "the SQLite layer is closed");
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("path", store.path().toString()).value("logically_read_only", meta.logicallyReadOnly());
    }

    /** Closes the file once the requests already queued have run (waiting up to 10 s for them). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            thread.execute(store::close);
            thread.shutdown();
            try {
                thread.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
