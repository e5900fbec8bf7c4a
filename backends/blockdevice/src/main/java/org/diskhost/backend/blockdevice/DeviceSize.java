package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

import org.diskhost.nativeio.netlink.Uevent;
import org.diskhost.nativeio.netlink.UeventListener;

/**
 * The sector count of a block device that may be resized under the disk. Two sources, because neither is enough
 * alone: the kernel's uevent ({@code RESIZE=1} for this device, or {@code RESCAN=true}) is immediate but does not
 * reach every network namespace or container, so the size ({@code BLKGETSIZE64}) is also re-read when a reader asks
 * and the last read is older than the poll interval, and every poll interval while somebody waits for a resize.
 * A device that can no longer be asked, or answers 0 (it went away), keeps its last size; its I/O fails on its own.
 */
final class DeviceSize implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeviceSize.class.getName());

    /** Reads the device's current size in bytes. */
    @FunctionalInterface
    interface SizeQuery {
        long bytes() throws IOException;
    }

    private final String name;
    private final SizeQuery query;
    private final int sectorShift;
    private final long pollNanos;
    private final Queue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean polling = new AtomicBoolean();
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private final AtomicLong checkedAt = new AtomicLong();
    private final UeventListener listener;
    private final String ueventState;
    private volatile long sectors;
    private volatile boolean stale;
    private volatile boolean closed;

    private record Waiter(long known, CompletableFuture<Long> future) {
    }

    /**
     * Starts tracking; {@code uevents} opens a uevent listener for {@code major:minor} where the kernel allows one
     * (where it does not, polling alone tells, and inspect output says why).
     */
    DeviceSize(String name, SizeQuery query, long initialBytes, int sectorShift, Duration poll, boolean uevents,
            int major, int minor) {
        this.name = name;
        this.query = query;
        this.sectorShift = sectorShift;
        this.pollNanos = poll.toNanos();
        this.sectors = initialBytes >>> sectorShift;
        this.checkedAt.set(System.nanoTime());
        UeventListener opened = null;
        String state;
        if (!uevents) {
            state = "off (setting uevents=false)";
        } else if (UeventListener.unavailable().isPresent()) {
            state = "unavailable: " + UeventListener.unavailable().get();
        } else {
            try {
                opened = UeventListener.open("block-" + major + ":" + minor, event -> onUevent(event, major, minor));
                state = "listening";
            } catch (IOException e) {
                state = "unavailable: " + e.getMessage();
            }
        }
        this.listener = opened;
        this.ueventState = state;
        if (opened == null && uevents) {
            LOG.info(() -> name + ": resize noticed by polling every " + poll.toMillis() + " ms, uevents " + ueventState);
        }
    }

    /** The sector count, re-read first when a uevent said it changed or the last read is older than the poll. */
    long sectors() {
        long at = checkedAt.get();
        if (stale || System.nanoTime() - at > pollNanos) {
            if (checkedAt.compareAndSet(at, System.nanoTime())) {
                refresh();
            }
        }
        return sectors;
    }

    /** Completes once the count differs from {@code known}; see {@link org.diskhost.api.DiskIo#waitResize}. */
    CompletableFuture<Long> waitResize(long known) {
        long now = sectors();
        if (now != known) {
            return CompletableFuture.completedFuture(now);
        }
        Waiter waiter = new Waiter(known, new CompletableFuture<>());
        waiters.add(waiter);
        waiter.future.whenComplete((count, failure) -> waiters.remove(waiter)); // also on cancel
        wake(); // a resize between the read above and the add
        schedulePoll();
        return waiter.future;
    }

    String ueventState() {
        return ueventState;
    }

    /** Stops listening and polling. Waiters stay pending, as for a disk that is never resized. */
    @Override
    public void close() {
        closed = true;
        waiters.clear();
        if (listener != null) {
            listener.close();
        }
    }

    private void onUevent(Uevent event, int major, int minor) {
        if (event.isBlockResize(major, minor) || event.isRescan()) {
            stale = true;
            refresh();
        }
    }

    private void refresh() {
        stale = false;
        long bytes;
        try {
            bytes = query.bytes();
        } catch (IOException e) {
            if (failureLogged.compareAndSet(false, true)) {
                LOG.warning(() -> name + ": cannot read the device's size, keeping " + sectors + " sectors: "
                        + e.getMessage());
            }
            return;
        }
        checkedAt.set(System.nanoTime());
        if (bytes == 0 && sectors != 0) {
            // A device that went away (or lost its medium) reports 0: keep the size, so that requests reach the
            // kernel and fail with its error (Io), not with IllegalBlock as if the guest had asked past the end.
            if (failureLogged.compareAndSet(false, true)) {
                LOG.warning(() -> name + ": the device reports a size of 0 (gone, or no medium); keeping " + sectors
                        + " sectors");
            }
            return;
        }
        long count = bytes >>> sectorShift;
        if (count != sectors) {
            long before = sectors;
            sectors = count;
            LOG.info(() -> name + ": resized from " + before + " to " + count + " sectors");
        }
        wake();
    }

    private void wake() {
        long now = sectors;
        for (Waiter waiter : waiters) {
            if (waiter.known != now) {
                waiter.future.complete(now);
            }
        }
    }

    /** Polls while somebody waits: the fallback for a resize whose uevent never arrives. */
    private void schedulePoll() {
        if (closed || waiters.isEmpty() || !polling.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture.delayedExecutor(pollNanos, TimeUnit.NANOSECONDS).execute(() -> {
            polling.set(false);
            if (!closed && !waiters.isEmpty()) {
                checkedAt.set(System.nanoTime());
                refresh();
                schedulePoll();
            }
        });
    }
}
