package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.nativeio.uring.Uring;

/**
 * The uring engine's transfers: reads, writes, flushes and hole punching on the threads engine's open file
 * ({@link NativeFileIo}, which keeps O_DIRECT, the hole-punching probe and the holes map), submitted to the disk's
 * own io_uring straight from the caller. No thread waits: a short transfer is continued from its completion, and the
 * returned future completes on the ring's thread, so whatever is chained to it must be short and never block.
 *
 * <p>One ring per disk rather than one per bundle: it opens and closes with the disk (a closing disk waits only for
 * its own requests), and one disk's queue never holds up another's. A ring costs a platform thread and a few pages.
 *
 * <p>Futures fail with an {@link IOException} (a {@link org.diskhost.nativeio.uring.UringException} carrying the
 * errno, or the ring being closed), or an {@link IllegalArgumentException} for memory the ring cannot take.
 */
final class RingFileIo implements AutoCloseable {
    /** Submission entries per disk: more requests than this wait in the ring's queue, in order. */
    static final int ENTRIES = 128;

    private final Uring ring;
    private final Path path;
    private final int fd;

    RingFileIo(Uring ring, NativeFileIo file, Path path) {
        this.ring = ring;
        this.path = path;
        this.fd = file.fd();
    }

    /** Fills {@code segments} (native memory), in order, from byte {@code offset}. */
    CompletableFuture<Void> read(List<MemorySegment> segments, long offset) {
        return transfer(segments, offset, false, false);
    }

    /** Writes {@code segments} (native memory), in order, at byte {@code offset}; with {@code dsync}, durably. */
    CompletableFuture<Void> write(List<MemorySegment> segments, long offset, boolean dsync) {
        return transfer(segments, offset, true, dsync);
    }

    /** fsync: every completed write durable, file metadata included (as {@link NativeFileIo#sync()}). */
    CompletableFuture<Void> sync() {
        return ring.fsync(fd, false).thenApply(result -> null);
    }

    /** Deallocates {@code length} bytes at {@code offset}, keeping the file size. */
    CompletableFuture<Void> punchHole(long offset, long length) {
        return ring.fallocate(fd, Uring.FALLOC_FL_PUNCH_HOLE | Uring.FALLOC_FL_KEEP_SIZE, offset, length)
                .thenApply(result -> null);
    }

    private CompletableFuture<Void> transfer(List<MemorySegment> segments, long offset, boolean write,
            boolean dsync) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        step(new SegmentCursor(segments), offset, write, dsync, done);
        return done;
    }

    /** Submits what is left of the transfer at {@code position}; its completion continues or ends it. */
    private void step(SegmentCursor cursor, long position, boolean write, boolean dsync,
            CompletableFuture<Void> done) {
        if (cursor.done()) {
            done.complete(null);
            return;
        }
        List<MemorySegment> batch = cursor.next(Uring.MAX_IOVECS);
        CompletableFuture<Integer> op;
        try {
            op = write ? ring.writev(fd, batch, position, dsync) : ring.readv(fd, batch, position);
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return;
        }
        op.whenComplete((n, failure) -> {
            if (failure != null) {
                done.completeExceptionally(failure instanceof CompletionException c ? c.getCause() : failure);
            } else if (n == 0) {
                done.completeExceptionally(NativeFileIo.nothingTransferred(path, write, position));
            } else {
                cursor.advance(n);
                step(cursor, position + n, write, dsync, done);
            }
        });
    }

    /** The ring's name and bounds, for inspect output. */
    @Override
    public String toString() {
        return ring.toString();
    }

    /**
     * Waits for every submitted operation, then releases the ring. On the ring's own thread (a completion stage that
     * closes the disk) that would wait for itself, so the caller then gets {@link IllegalStateException}.
     */
    @Override
    public void close() {
        ring.close();
    }
}
