package org.diskhost.backend.blob;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.diskhost.api.buffers.BufferWriter;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * The readahead of a blob disk ({@code readahead}): a sequential reader's next bytes are fetched before it asks for
 * them, in blocks of {@code chunkSize} aligned to it, and kept in a small cache.
 *
 * <p>A read is sequential when it starts exactly where an earlier read of one of the last {@value #STREAMS} streams
 * ended, and that stream has already had a read. A sequential read is served from blocks (fetching those it lacks)
 * and starts fetches up to {@code window} bytes past its end; any other read is served from the cache when the
 * blocks it needs are there (or on their way), else read directly. Blocks are fetched by {@link Fetch}, which goes
 * through the disk's {@code connections} bound and its pin ({@code If-Match}), like every read.
 *
 * <p>Memory: blocks held (fetched or on their way) never exceed {@code capacity} bytes; a block on its way is never
 * evicted, the least recently used fetched one is. {@link #invalidate()} (a write, an unmap, a new length) drops
 * every block and bumps a generation: a block fetched in an older generation is never served, the read goes to the
 * server instead, so a disk's own writes are never hidden by older cached bytes.
 */
final class ReadAhead {
    /** Reads {@code length} bytes of the disk at {@code offset} into {@code into}, from the server. */
    interface Fetch {
        CompletableFuture<Void> read(long offset, long length, RequestBuffers into);
    }

    static final int STREAMS = 4;

    private final long window;
    private final long blockSize;
    private final long capacity;
    private final LongSupplier diskLength;
    private final Fetch fetch;
    /** Keyed by block offset, least recently used first. Guarded by {@code this}, as are the fields below. */
    private final LinkedHashMap<Long, Block> blocks = new LinkedHashMap<>(16, 0.75f, true);
    private final long[] streamEnd = new long[STREAMS];
    private final boolean[] streamSeen = new boolean[STREAMS];
    private int nextStream;
    private long held;
    private long generation;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder prefetched = new LongAdder();
    private final LongAdder stale = new LongAdder();

    /** One block of the blob, fetched (or on its way) in one generation. */
    private record Block(long offset, long generation, byte[] bytes, CompletableFuture<Void> done) {
    }

    /**
     * @param window how far past a sequential read to fetch
     * @param blockSize the size (and alignment) of a fetch
     * @param capacity the most bytes of blocks held at once (at least {@code window} plus a block)
     * @param diskLength the disk's length in bytes now: no block reaches past it
     */
    ReadAhead(long window, long blockSize, long capacity, LongSupplier diskLength, Fetch fetch) {
        this.window = window;
        this.blockSize = blockSize;
        this.capacity = capacity;
        this.diskLength = diskLength;
        this.fetch = fetch;
        Arrays.fill(streamEnd, -1);
    }

    /** Reads {@code length} bytes at {@code offset} into {@code into}: from blocks where it can, else directly. */
    CompletableFuture<Void> read(long offset, long length, RequestBuffers into) {
        List<Block> use;
        List<Block> start = new ArrayList<>();
        boolean hit;
        synchronized (this) {
            boolean sequential = advance(offset, length);
            use = cached(offset, length);
            hit = use != null;
            if (use == null && sequential) {
                use = blocksFor(offset, offset + length, start);
            }
            if (sequential && use != null) {
                long from = align(offset + length + blockSize - 1);
                // A full cache (blocks on their way) fetches less ahead: the reader is ahead of the server.
                blocksFor(from, Math.min(from + window, diskLength.getAsLong()), start);
            }
        }
        start.forEach(this::start);
        if (use == null) {
            misses.increment();
            return fetch.read(offset, length, into);
        }
        (hit ? hits : misses).increment();
        List<Block> blocksToCopy = use;
        return CompletableFuture.allOf(use.stream().map(Block::done).toArray(CompletableFuture[]::new))
                .thenCompose(done -> {
                    if (!current(blocksToCopy)) {
                        stale.increment(); // a write came in between: its bytes are at the server, not here
                        return fetch.read(offset, length, into);
                    }
                    copy(blocksToCopy, offset, length, into);
                    return CompletableFuture.<Void>completedFuture(null);
                });
    }

    /** Drops every block: those on their way are never served. For a write, an unmap or a new length. */
    synchronized void invalidate() {
        generation++;
        blocks.clear();
        held = 0;
    }

    private synchronized boolean current(List<Block> use) {
        for (Block b : use) {
            if (b.generation() != generation) {
                return false;
            }
        }
        return true;
    }

    /** Follows the streams: true when {@code offset} continues one that had a read already. */
    private boolean advance(long offset, long length) {
        for (int i = 0; i < STREAMS; i++) {
            if (streamEnd[i] == offset) {
                streamEnd[i] = offset + length;
                boolean sequential = streamSeen[i];
                streamSeen[i] = true;
                return sequential;
            }
        }
        int i = nextStream;
        nextStream = (nextStream + 1) % STREAMS;
        streamEnd[i] = offset + length;
        streamSeen[i] = true;
        return false;
    }

    private long align(long offset) {
        return offset - Math.floorMod(offset, blockSize);
    }

    /** The blocks that hold all of {@code offset..+length}, or null if one is missing. */
    private List<Block> cached(long offset, long length) {
        List<Block> use = new ArrayList<>(2);
        for (long at = align(offset); at < offset + length; at += blockSize) {
            Block b = blocks.get(at);
            if (b == null || b.done().isCompletedExceptionally()) {
                return null;
            }
            use.add(b);
        }
        return use;
    }

    /**
     * The blocks for {@code from..to}, adding those missing to {@code start} (and to the cache): null when the cache
     * cannot hold them all now (then those added so far still come).
     */
    private List<Block> blocksFor(long from, long to, List<Block> start) {
        List<Block> use = new ArrayList<>();
        long end = diskLength.getAsLong();
        for (long at = align(from); at < to && at < end; at += blockSize) {
            Block b = blocks.get(at);
            if (b == null || b.done().isCompletedExceptionally()) {
                int n = (int) Math.min(blockSize, end - at);
                if (!makeRoom(n)) {
                    return null;
                }
                b = new Block(at, generation, new byte[n], new CompletableFuture<>());
                blocks.put(at, b);
                held += n;
                start.add(b);
            }
            use.add(b);
        }
        return use;
    }

    /** Evicts fetched blocks, least recently used first, until {@code n} more bytes fit. */
    private boolean makeRoom(long n) {
        Iterator<Block> it = blocks.values().iterator();
        while (held + n > capacity && it.hasNext()) {
            Block b = it.next();
            if (b.done().isDone()) {
                it.remove();
                held -= b.bytes().length;
            }
        }
        return held + n <= capacity;
    }

    private void start(Block b) {
        prefetched.add(b.bytes().length);
        fetch.read(b.offset(), b.bytes().length, RequestBuffers.of(MemorySegment.ofArray(b.bytes()), true))
                .whenComplete((ok, failure) -> {
                    if (failure != null) {
                        synchronized (this) {
                            if (blocks.remove(b.offset(), b)) {
                                held -= b.bytes().length;
                            }
                        }
                        b.done().completeExceptionally(failure);
                    } else {
                        b.done().complete(null);
                    }
                });
    }

    private static void copy(List<Block> use, long offset, long length, RequestBuffers into) {
        BufferWriter writer = into.writer();
        long at = offset;
        long end = offset + length;
        for (Block b : use) {
            long from = at - b.offset();
            long n = Math.min(end, b.offset() + b.bytes().length) - at;
            writer.write(MemorySegment.ofArray(b.bytes()).asSlice(from, n));
            at += n;
        }
    }

    synchronized long held() {
        return held;
    }

    void inspect(Inspector out) {
        out.value("readahead", window)
                .value("readahead_held_bytes", held())
                .value("readahead_hits", hits.sum())
                .value("readahead_misses", misses.sum())
                .value("readahead_fetched_bytes", prefetched.sum())
                .value("readahead_stale", stale.sum());
    }
}
