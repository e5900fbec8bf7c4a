package org.diskhost.backend.blob.azure;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A writer's lease on a blob: acquired at open, renewed in the background at a third of its duration (so two renewals
 * may fail before it expires), released at {@link #close()}. While another client holds a lease, {@link #acquire}
 * fails with the service's {@code LeaseAlreadyPresent}, which names the disk. A lease that could not be renewed in
 * time, or that the service no longer knows (broken, expired), is {@linkplain #lost() lost}: writes then fail
 * rather than go out without it.
 */
public final class Lease implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Lease.class.getName());

    private final AzureBlob blob;
    private final String disk;
    private final String id;
    private final Duration duration;
    private final ScheduledFuture<?> renewal;
    private volatile long renewedNanos = System.nanoTime();
    private volatile IOException lost;
    private volatile boolean closed;

    private Lease(AzureBlob blob, String disk, String id, int seconds, ScheduledExecutorService scheduler) {
        this.blob = blob;
        this.disk = disk;
        this.id = id;
        this.duration = Duration.ofSeconds(seconds);
        this.renewal = seconds < 0 ? null
                : scheduler.scheduleWithFixedDelay(this::renew, seconds * 1000L / 3, seconds * 1000L / 3,
                        TimeUnit.MILLISECONDS);
    }

    /**
     * Acquires a lease of {@code seconds} (15 to 60, or -1 for an infinite lease, which is never renewed and stays if
     * the process dies) and starts renewing it on {@code scheduler}.
     *
     * @param disk how messages name the disk
     */
    public static CompletableFuture<Lease> acquire(AzureBlob blob, String disk, int seconds,
            ScheduledExecutorService scheduler) {
        if (seconds != -1 && (seconds < 15 || seconds > 60)) {
            throw new IllegalArgumentException("a lease lasts 15 to 60 seconds or is infinite (-1), not " + seconds);
        }
        return blob.acquireLease(seconds, UUID.randomUUID().toString())
                .thenApply(id -> new Lease(blob, disk, id, seconds, scheduler));
    }

    /** The lease id that writes carry. */
    public String id() {
        return id;
    }

    /** Why the lease is gone, if it is: the disk can no longer write safely. */
    public Optional<IOException> lost() {
        IOException e = lost;
        if (e == null && renewal != null && !closed
                && System.nanoTime() - renewedNanos > duration.toNanos()) {
            e = new IOException(disk + ": the lease on " + blob.where() + " was not renewed for "
                    + duration.toSeconds() + " s and has expired; writes are refused");
        }
        return Optional.ofNullable(e);
    }

    private void renew() {
        if (closed || lost != null) {
            return;
        }
        try {
            blob.renewLease(id).get(duration.toSeconds(), TimeUnit.SECONDS);
            renewedNanos = System.nanoTime();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof AzureException a && (a.status() == 409 || a.status() == 412)) {
                lost = new IOException(disk + ": the lease was lost; writes are refused: " + a.getMessage(), a);
                LOG.log(Level.WARNING, lost.getMessage());
            } else {
                // A transient failure: the next renewal comes well before the lease expires.
                LOG.log(Level.WARNING, disk + ": renewing the lease failed, will retry: " + cause.getMessage());
            }
        }
    }

    /** Stops renewing and releases the lease (waiting at most {@code timeout}); a failed release is logged. */
    public void close(Duration timeout) {
        if (closed) {
            return;
        }
        closed = true;
        if (renewal != null) {
            renewal.cancel(false);
        }
        if (lost != null) {
            return;
        }
        try {
            blob.releaseLease(id).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.log(Level.WARNING, disk + ": releasing the lease failed (it expires by itself unless infinite): "
                    + (e.getCause() != null ? e.getCause() : e).getMessage());
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return "Lease[" + (duration.isNegative() ? "infinite" : duration.toSeconds() + " s")
                + (lost != null ? ", lost" : "") + (closed ? ", released" : "") + "]";
    }
}
