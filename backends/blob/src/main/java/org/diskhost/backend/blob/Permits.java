package org.diskhost.backend.blob;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * An asynchronous semaphore: bounds the requests a disk has at the server ({@code connections}). The JDK client's
 * pool only caps idle connections, so without this a deep queue would open a connection per request. Waiters are
 * served in order; {@link #acquire()} never blocks.
 */
final class Permits {
    private final int permits;
    private final ArrayDeque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private int available;

    Permits(int permits) {
        this.permits = permits;
        this.available = permits;
    }

    /** Completes (at once when a permit is free, else on a {@link #release()}) once the caller holds a permit. */
    CompletableFuture<Void> acquire() {
        synchronized (this) {
            if (available > 0) {
                available--;
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> waiter = new CompletableFuture<>();
            waiters.add(waiter);
            return waiter;
        }
    }

    /** Returns a permit: the longest waiter gets it, and continues on this thread. */
    void release() {
        CompletableFuture<Void> next;
        synchronized (this) {
            next = waiters.poll();
            if (next == null) {
                available++;
                return;
            }
        }
        next.complete(null);
    }

    /** Requests at the server now. */
    synchronized int inUse() {
        return permits - available;
    }

    /** Requests waiting for a permit. */
    synchronized int waiting() {
        return waiters.size();
    }
}
