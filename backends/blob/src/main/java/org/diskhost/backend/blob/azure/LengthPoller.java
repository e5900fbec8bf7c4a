package org.diskhost.backend.blob.azure;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Watches a page blob's length: Azure tells no one when another client resizes a blob (Set Blob Properties), so a
 * disk asks with Get Blob Properties every {@code interval} and is told of each new length. A failed poll is logged
 * once per run of failures and tried again at the next interval.
 */
public final class LengthPoller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LengthPoller.class.getName());

    private final AzureBlob blob;
    private final String disk;
    private final LongConsumer changed;
    private final ScheduledFuture<?> task;
    private volatile long length;
    private boolean failing;

    /**
     * Starts polling on {@code scheduler}.
     *
     * @param length the length the disk knows
     * @param changed told each new length, on the scheduler's thread
     */
    public LengthPoller(AzureBlob blob, String disk, long length, Duration interval,
            ScheduledExecutorService scheduler, LongConsumer changed) {
        this.blob = blob;
        this.disk = disk;
        this.length = length;
        this.changed = changed;
        this.task = scheduler.scheduleWithFixedDelay(this::poll, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** The length the last poll saw, in bytes. */
    public long length() {
        return length;
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
        if (now != length) {
            length = now;
            LOG.info(() -> disk + ": the blob's length changed to " + now + " bytes");
            changed.accept(now);
        }
    }

    /** Stops polling. */
    @Override
    public void close() {
        task.cancel(false);
    }
}
