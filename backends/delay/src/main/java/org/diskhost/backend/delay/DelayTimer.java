package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/** Completes futures after a delay, without holding a thread while it waits. */
@FunctionalInterface
interface DelayTimer {

    /** A future that completes once {@code delay} has passed; a zero delay may complete at once. */
    CompletableFuture<Void> after(Duration delay);

    /**
     * The JDK's shared delay scheduler ({@link CompletableFuture#delayedExecutor}): nothing to start or stop, so a
     * bundle update leaves no thread behind. The future completes on a common-pool thread, which then sends the
     * request on; the scheduler thread itself only hands over.
     */
    DelayTimer SYSTEM = delay -> {
        if (delay.isZero()) {
            return CompletableFuture.completedFuture(null);
        }
        Executor later = CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS);
        return CompletableFuture.runAsync(() -> { }, later);
    };
}
