package org.diskhost.backend.layered;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/** Runs an action at most once per interval, telling it how many calls were skipped since it last ran. */
final class RateLimit {
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong skipped = new AtomicLong();

    RateLimit(long intervalMillis) {
        this.intervalNanos = intervalMillis * 1_000_000;
    }

    void run(LongConsumer action) {
        long now = System.nanoTime();
        long due = next.get();
        if ((due == Long.MIN_VALUE || now - due >= 0) && next.compareAndSet(due, now + intervalNanos)) {
            action.accept(skipped.getAndSet(0));
        } else {
            skipped.incrementAndGet();
        }
    }
}
