package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

import org.diskhost.api.buffers.BounceBuffer;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.SectorMarker;

/**
 * One read of a layered disk (reference section 6.11, read algorithm). Layers are asked top-down for the runs of
 * sectors no layer above supplied; each marks what it supplied. Once a read-cache layer has missed some sectors, the
 * layers below it read into a private bounce buffer rather than the guest's memory, and at the end those sectors are
 * written to the cache from the bounce buffer (only where the cache has nothing yet) and copied to the guest: the
 * guest cannot change what is cached while the read runs. Sectors no layer supplies read as zeros, and a cache
 * stores them as zeros.
 */
final class LayeredRead {
    private static final Logger LOG = Logger.getLogger(LayeredRead.class.getName());
    private static final RateLimit CACHE_FAILURES = new RateLimit(10_000);

    /** A run of sectors to put into cache layer {@code layer}, from the bounce buffer. */
    private record CacheFill(int layer, int start, int count) {
    }

    private final List<LayeredDisk.Stacked> layers;
    private final RequestBuffers guest;
    private final long sector;
    private final int count;
    private final int shift;
    /** Bit i: sector {@code sector + i} has been supplied. Guarded by itself. */
    private final BitSet filled;
    private final List<CacheFill> cacheFills = new ArrayList<>(1);
    private BounceBuffer bounce;

    LayeredRead(List<LayeredDisk.Stacked> layers, RequestBuffers guest, long sector, int count, int shift) {
        this.layers = layers;
        this.guest = guest;
        this.sector = sector;
        this.count = count;
        this.shift = shift;
        this.filled = new BitSet(count);
    }

    CompletableFuture<Void> run() {
        CompletableFuture<Void> done;
        try {
            done = visit(0);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        return done.whenComplete((v, failure) -> {
            if (bounce != null) {
                bounce.close();
            }
        });
    }

    /** Asks layer {@code i} for every unfilled run (clipped to its visible sectors), then goes on below. */
    private CompletableFuture<Void> visit(int i) {
        if (i == layers.size()) {
            return finish();
        }
        LayeredDisk.Stacked layer = layers.get(i);
        // The top layer's size is live (the request was checked against it); lower layers show their visible part.
        int limit = i == 0 ? count : (int) Math.max(0, Math.min(count, layer.visibleSectors() - sector));
        List<int[]> runs = unfilledRuns(limit);
        if (runs.isEmpty()) {
            return finish();
        }
        CompletableFuture<?>[] reads = new CompletableFuture<?>[runs.size()];
        for (int r = 0; r < runs.size(); r++) {
            int[] run = runs.get(r);
            reads[r] = read(layer.io(), run[0], run[1]);
        }
        CompletableFuture<Void> all = reads.length == 1 ? castVoid(reads[0]) : CompletableFuture.allOf(reads);
        return all.thenCompose(v -> {
            if (layer.readCache()) {
                recordCacheFills(i, runs);
            }
            return visit(i + 1);
        });
    }

    @SuppressWarnings("unchecked")
    private static CompletableFuture<Void> castVoid(CompletableFuture<?> f) {
        return (CompletableFuture<Void>) f;
    }

    private CompletableFuture<Void> read(LayerIo layer, int start, int n) {
        RequestBuffers target = (bounce != null ? bounce.requestBuffers(true) : guest)
                .subrange((long) start << shift, (long) n << shift);
        try {
            return layer.read(target, sector + start, new Marker(start, n));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The runs {@code [start, start + length)} of unfilled sectors below {@code limit}, as {start, length}. */
    private List<int[]> unfilledRuns(int limit) {
        List<int[]> runs = new ArrayList<>(1);
        synchronized (filled) {
            int start = filled.nextClearBit(0);
            while (start < limit) {
                int end = Math.min(limit, filled.nextSetBit(start) < 0 ? count : filled.nextSetBit(start));
                runs.add(new int[] {start, end - start});
                start = filled.nextClearBit(end);
            }
        }
        return runs;
    }

    /** After cache layer {@code i} read {@code runs}: what it still lacks is filled into it at the end. */
    private void recordCacheFills(int i, List<int[]> runs) {
        for (int[] run : runs) {
            synchronized (filled) {
                int end = run[0] + run[1];
                int start = filled.nextClearBit(run[0]);
                while (start < end) {
                    int stop = filled.nextSetBit(start);
                    stop = stop < 0 || stop > end ? end : stop;
                    cacheFills.add(new CacheFill(i, start, stop - start));
                    start = filled.nextClearBit(stop);
                }
            }
        }
        if (!cacheFills.isEmpty() && bounce == null) {
            bounce = BounceBuffer.allocate((long) count << shift); // zeroed: what no layer has is cached as zeros
        }
    }

    /** Zeroes what no layer supplied, fills the caches, and copies what the caches got to the guest. */
    private CompletableFuture<Void> finish() {
        for (int[] run : unfilledRuns(count)) {
            guest.subrange((long) run[0] << shift, (long) run[1] << shift).writer().zero((long) run[1] << shift);
        }
        if (cacheFills.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<?>[] writes = new CompletableFuture<?>[cacheFills.size()];
        for (int f = 0; f < writes.length; f++) {
            writes[f] = fillCache(cacheFills.get(f));
        }
        return CompletableFuture.allOf(writes).thenRun(() -> {
            for (CacheFill fill : cacheFills) {
                long offset = (long) fill.start() << shift;
                long length = (long) fill.count() << shift;
                guest.subrange(offset, length).writer().write(bounce.segment().asSlice(offset, length));
            }
        });
    }

    /** Writes one cache fill; a failure is logged (rate-limited) and otherwise ignored: the read still succeeds. */
    private CompletableFuture<Void> fillCache(CacheFill fill) {
        LayerIo cache = layers.get(fill.layer()).io();
        RequestBuffers data = bounce.requestBuffers(false)
                .subrange((long) fill.start() << shift, (long) fill.count() << shift);
        CompletableFuture<Void> write;
        try {
            write = cache.writeNoOverwrite().orElseThrow().write(data, sector + fill.start());
        } catch (RuntimeException e) {
            write = CompletableFuture.failedFuture(e);
        }
        return write.exceptionally(failure -> {
            Throwable cause = LayeredDisk.unwrap(failure);
            CACHE_FAILURES.run(suppressed -> LOG.warning(() -> "filling read cache layer " + fill.layer()
                    + " failed: " + cause + (suppressed > 0 ? " (" + suppressed + " more failures not logged)" : "")));
            return null;
        });
    }

    /** Marks sectors {@code [start, start + n)} of this read (relative to its first sector) as filled. */
    private final class Marker implements SectorMarker {
        private final int start;
        private final int n;

        Marker(int start, int n) {
            this.start = start;
            this.n = n;
        }

        @Override
        public void set(long s) {
            setRange(s, 1);
        }

        @Override
        public void setRange(long s, long length) {
            long from = s - sector - start;
            if (length < 0 || from < 0 || from > n - length) {
                throw new IllegalArgumentException("a layer marked " + length + " sectors at " + s
                        + ", outside its read of " + n + " sectors at " + (sector + start));
            }
            synchronized (filled) {
                filled.set(start + (int) from, start + (int) (from + length));
            }
        }

        @Override
        public void setAll() {
            synchronized (filled) {
                filled.set(start, start + n);
            }
        }
    }
}
