package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A {@link DelayTimer} for tests: records every delay asked for, and lets the test decide when each has passed. */
final class ManualTimer implements DelayTimer {
    private final List<Duration> asked = new ArrayList<>();
    private final List<CompletableFuture<Void>> pending = new ArrayList<>();

    @Override
    public synchronized CompletableFuture<Void> after(Duration delay) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        asked.add(delay);
        pending.add(f);
        return f;
    }

    /** Every delay asked for so far, in order. */
    synchronized List<Duration> asked() {
        return List.copyOf(asked);
    }

    /** Lets every pending delay pass. */
    void elapseAll() {
        List<CompletableFuture<Void>> due;
        synchronized (this) {
            due = new ArrayList<>(pending);
            pending.clear();
        }
        due.forEach(f -> f.complete(null));
    }
}
