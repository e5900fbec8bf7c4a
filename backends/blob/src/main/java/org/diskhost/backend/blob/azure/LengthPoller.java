package org.diskhost.backend.blob.azure;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Watches a page blob's length: Azure tells no one when another client resizes a blob (Set Blob Properties), so a
 * disk asks with Get Blob Properties every {@code interval} and completes the waiters of {@link #waitChange} when the
 * length differs. A failed poll is logged once per run of failures and tried again at the next interval.
 */
public final class LengthPoller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LengthPoller.class.getName());

    private final AzureBlob blob;
    private final String disk;
    private final ScheduledFuture<?> task;
    private final List<Waiter> waiters = new ArrayList<>();
    private volatile long length;
    private boolean failing;

    private record Waiter(long from, CompletableFuture<Long> future) {
    }

    public LengthPoller(AzureBlob blob, String disk, long length, Duration interval,
            ScheduledExecutorService scheduler) {
        this.blob = blob;
        this.disk = disk;
        this.length = length;
        this.task = scheduler.scheduleWithFixedDelay(this::poll, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** The length the last poll saw, in bytes. */
    public long length() {
        return length;
    }

    /**
     * Completes with the blob's length once it differs from {@code from} (at once if it already does). Cancelling the
     * returned future stops the wait.
     */
    public CompletableFuture<Long> waitChange(long from) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        synchronized (waiters) {
            long now = length;
            if (now != from) {
                f.complete(now);
                return f;
            }
            waiters.add(new Waiter(from, f));
        }
        f.whenComplete((v, e) -> {
            synchronized (waiters) {
                waiters.removeIf(w -> w.future() == f);
            }
        });
        return f;
    }

    private void poll() {
        long now;
        try {
            now = blob.properties().get().length();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            if (!failing) {
                failing = true;
                LOG.log(Level.WARNING, disk + ": polling the blob's length failed, will retry: "
                        + (e.getCause() != null ? e.getCause() : e).getMessage());
            }
            return;
        }
        failing = false;
        List<Waiter> done = new ArrayList<>();
        synchronized (waiters) {
            if (now == length) {
                return;
            }
            length = now;
            waiters.removeIf(w -> w.from() != now && done.add(w));
        }
        LOG.info(() -> disk + ": the blob's length changed to " + now + " bytes");
        done.forEach(w -> w.future().complete(now));
    }

    /** Stops polling; waiters stay pending (the disk is going away). */
    @Override
    public void close() {
        task.cancel(false);
    }
}
