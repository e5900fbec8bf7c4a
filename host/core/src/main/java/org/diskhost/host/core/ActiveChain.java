package org.diskhost.host.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;

/**
 * A resolved chain while it serves a hosted disk, with a count of the requests in flight on it. Draining closes the
 * door (no request enters afterwards) and completes once the last request in flight has completed.
 */
final class ActiveChain {
    /** In-flight count; the sign bit set means draining. */
    private final AtomicLong inFlight = new AtomicLong();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    final ResolvedChain chain;
    final long since = System.currentTimeMillis();

    ActiveChain(ResolvedChain chain) {
        this.chain = chain;
    }

    Disk disk() {
        return chain.disk();
    }

    /** Counts a request in; false once draining has begun. */
    boolean enter() {
        while (true) {
            long state = inFlight.get();
            if (state < 0) {
                return false;
            }
            if (inFlight.compareAndSet(state, state + 1)) {
                return true;
            }
        }
    }

    /** Counts a request out. */
    void exit() {
        if (inFlight.decrementAndGet() == Long.MIN_VALUE) {
            drained.complete(null);
        }
    }

    /** Stops new requests from entering; completes when those in flight are done. */
    CompletableFuture<Void> drain() {
        long before = inFlight.getAndAccumulate(Long.MIN_VALUE, (state, bit) -> state | bit);
        if ((before & Long.MAX_VALUE) == 0) {
            drained.complete(null);
        }
        return drained;
    }

    long inFlight() {
        return inFlight.get() & Long.MAX_VALUE;
    }
}
