package org.diskhost.backend.blockdevice;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One engine's operations on the open device. Each is one call to the kernel: a transfer completes with the bytes
 * moved, which may be fewer than asked (the disk decides what a short transfer means). Futures fail with an
 * {@link java.io.IOException} carrying the errno where there is one (an {@code ErrnoException}, such as io_uring's
 * {@code UringException}).
 * Segments are native memory, at most {@link #MAX_SEGMENTS} of them.
 */
interface Transfers extends AutoCloseable {
    /** The kernel's limit on iovecs in one vectored call (UIO_MAXIOV). */
    int MAX_SEGMENTS = 1024;

    /** For inspect output. */
    String describe();

    CompletableFuture<Integer> read(List<MemorySegment> segments, long offset);

    /** With {@code dsync} the data is durable on completion (RWF_DSYNC, or a data sync after the write). */
    CompletableFuture<Integer> write(List<MemorySegment> segments, long offset, boolean dsync);

    /** A full fsync. */
    CompletableFuture<Void> fsync();

    /** Whether {@link #punchHole} works; only regular files ask. */
    boolean canPunchHoles();

    /** {@code fallocate(PUNCH_HOLE | KEEP_SIZE)}. */
    CompletableFuture<Void> punchHole(long offset, long length);

    /** Waits for every operation submitted, then releases the engine (not the descriptor). */
    @Override
    void close();
}
