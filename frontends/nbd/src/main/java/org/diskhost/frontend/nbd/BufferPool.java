package org.diskhost.frontend.nbd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The payload buffers of one connection: native, page-aligned memory (usable for O_DIRECT and by the socket without
 * copies), reused across requests, and never more than {@code budget} bytes in all, idle buffers included. A request
 * that would exceed the budget waits for others to finish: this is the connection's memory bound and its
 * back-pressure.
 *
 * <p>Sizes are rounded up to powers of two from 4 KiB. Each buffer has its own arena so that idle buffers can be
 * freed to make room for a buffer of another size.
 */
final class BufferPool implements AutoCloseable {
    private static final int MIN_SHIFT = 12;
    private static final int CLASSES = 64 - MIN_SHIFT;

    private final long budget;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    @SuppressWarnings("unchecked")
    private final ArrayDeque<Buffer>[] idle = new ArrayDeque[CLASSES];
    private long allocated; // bytes of every live buffer, idle or in use
    private long inUse;
    private boolean closed;

    /** A buffer lent out by {@link #acquire}; {@link #segment} is exactly the size asked for. */
    static final class Buffer {
        private final Arena arena;
        private final MemorySegment whole;
        private final int sizeClass;
        private MemorySegment segment;

        private Buffer(int sizeClass) {
            this.sizeClass = sizeClass;
            this.arena = Arena.ofShared();
            this.whole = arena.allocate(1L << (sizeClass + MIN_SHIFT), 4096);
        }

        MemorySegment segment() {
            return segment;
        }
    }

    BufferPool(long budget) {
        if (budget < (1L << MIN_SHIFT)) {
            throw new IllegalArgumentException("a buffer budget of " + budget + " bytes is too small");
        }
        this.budget = budget;
        for (int i = 0; i < CLASSES; i++) {
            idle[i] = new ArrayDeque<>();
        }
    }

    /** Whether a buffer of {@code size} bytes fits in the budget at all. */
    boolean canServe(long size) {
        return size > 0 && (1L << (sizeClass(size) + MIN_SHIFT)) <= budget;
    }

    /**
     * A buffer of {@code size} bytes (one that {@link #canServe} accepts), waiting while the budget is spent.
     *
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalStateException if the pool is closed
     */
    Buffer acquire(long size) throws InterruptedException {
        int sizeClass = sizeClass(size);
        long bytes = 1L << (sizeClass + MIN_SHIFT);
        if (bytes > budget) {
            throw new IllegalArgumentException(size + " bytes exceed the connection's buffer budget of " + budget);
        }
        List<Buffer> evicted = new ArrayList<>();
        Buffer buffer = null;
        lock.lockInterruptibly();
        try {
            while (true) {
                if (closed) {
                    throw new IllegalStateException("the connection is closing");
                }
                buffer = idle[sizeClass].pollLast();
                if (buffer != null) {
                    break;
                }
                if (allocated + bytes <= budget) {
                    allocated += bytes;
                    break;
                }
                if (!evictOne(evicted)) {
                    released.await(1, TimeUnit.SECONDS);
                }
            }
            inUse += bytes;
        } finally {
            lock.unlock();
            evicted.forEach(b -> b.arena.close());
        }
        if (buffer == null) {
            try {
                buffer = new Buffer(sizeClass);
            } catch (OutOfMemoryError | RuntimeException e) {
                forget(bytes);
                throw e;
            }
        }
        buffer.segment = buffer.whole.asSlice(0, size);
        return buffer;
    }

    /** Returns a buffer; after {@link #close()} its memory is freed at once. */
    void release(Buffer buffer) {
        long bytes = 1L << (buffer.sizeClass + MIN_SHIFT);
        boolean free;
        lock.lock();
        try {
            inUse -= bytes;
            free = closed;
            if (free) {
                allocated -= bytes;
            } else {
                idle[buffer.sizeClass].addLast(buffer);
            }
            released.signalAll();
        } finally {
            lock.unlock();
        }
        if (free) {
            buffer.arena.close();
        }
    }

    /** Bytes of the buffers currently lent out. */
    long inUse() {
        lock.lock();
        try {
            return inUse;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of native memory held, idle buffers included; never more than the budget. */
    long allocated() {
        lock.lock();
        try {
            return allocated;
        } finally {
            lock.unlock();
        }
    }

    /** Frees the idle buffers; buffers still lent out are freed when they come back. */
    @Override
    public void close() {
        List<Buffer> evicted = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            while (evictOne(evicted)) {
                // evict everything idle
            }
            released.signalAll();
        } finally {
            lock.unlock();
        }
        evicted.forEach(b -> b.arena.close());
    }

    /** Moves the largest idle buffer to {@code evicted} (its memory is freed outside the lock). */
    private boolean evictOne(List<Buffer> evicted) {
        for (int i = CLASSES - 1; i >= 0; i--) {
            Buffer b = idle[i].pollFirst();
            if (b != null) {
                allocated -= 1L << (i + MIN_SHIFT);
                evicted.add(b);
                return true;
            }
        }
        return false;
    }

    private void forget(long bytes) {
        lock.lock();
        try {
            allocated -= bytes;
            inUse -= bytes;
            released.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static int sizeClass(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size " + size);
        }
        int shift = 64 - Long.numberOfLeadingZeros(size - 1); // ceil(log2(size))
        return Math.max(shift, MIN_SHIFT) - MIN_SHIFT;
    }
}
