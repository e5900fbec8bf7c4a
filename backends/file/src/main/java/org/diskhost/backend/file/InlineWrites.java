package org.diskhost.backend.file;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * When a small buffered write may run on the caller's thread instead of an I/O thread.
 *
 * <p>ext4 refuses {@code RWF_NOWAIT} on buffered writes, so unlike a cached read there is no non-blocking try. A
 * whole-page buffered write is a copy into the page cache, and the hand-off to an I/O thread and back costs more than
 * the copy (two wake-ups of about 20 µs on a VM: NBD 4 KiB writes at queue depth 1, bench/README). The copy waits for
 * the device only when the kernel throttles dirty pages, when a partial page must first be read, or when another
 * write holds the file's inode lock. The gate rules those out as far as it can see them:
 * <ul>
 *   <li>whole pages only, at most {@link FileDisk#CACHED_READ_LIMIT} bytes, never FUA (the caller checks);
 *   <li>dirty and writeback pages below the kernel's background threshold ({@code /proc/vmstat}, sampled at most
 *       every {@link #SAMPLE_NANOS}), where {@code balance_dirty_pages} never sleeps;
 *   <li>none of this disk's requests on its I/O threads, and no other inline write at the same time;
 *   <li>and, for what it cannot see (journal commits, reclaim), a write that still took longer than
 *       {@link #STALL_NANOS} closes the gate for {@link #PAUSE_NANOS}.
 * </ul>
 * So a caller is held up by at most one slow copy now and then, never by a queue of them.
 */
final class InlineWrites {
    static final long SAMPLE_NANOS = 100_000_000L;
    static final long STALL_NANOS = 1_000_000L;
    static final long PAUSE_NANOS = 100_000_000L;
    private static final int PAGE = 4096;

    private final BooleanSupplier dirtyPagesLow;
    private final LongSupplier clock;
    private final AtomicInteger threadRequests = new AtomicInteger();
    private final AtomicBoolean busy = new AtomicBoolean();
    private final LongAdder inlined = new LongAdder();
    private final LongAdder stalls = new LongAdder();
    private volatile long sampledAt;
    private volatile boolean dirtyLow;
    private volatile long closedUntil;

    /** {@code dirtyPagesLow} says whether dirty pages are below the background threshold now. */
    InlineWrites(BooleanSupplier dirtyPagesLow, LongSupplier clock) {
        this.dirtyPagesLow = dirtyPagesLow;
        this.clock = clock;
        this.sampledAt = clock.getAsLong() - SAMPLE_NANOS;
    }

    /** The gate over this machine's {@code /proc/vmstat}. */
    static InlineWrites fromProc() {
        return new InlineWrites(InlineWrites::procVmstatBelowBackground, System::nanoTime);
    }

    /**
     * Claims the one inline slot for a write of {@code length} bytes at {@code offset}, or returns false: the write
     * then goes to the I/O threads. A true return must be followed by {@link #finished(long)}.
     */
    boolean tryEnter(long offset, long length) {
        if (((offset | length) & (PAGE - 1)) != 0 || length > FileDisk.CACHED_READ_LIMIT
                || threadRequests.get() != 0) {
            return false;
        }
        long now = clock.getAsLong();
        if (now - closedUntil < 0 || !busy.compareAndSet(false, true)) {
            return false;
        }
        if (now - sampledAt >= SAMPLE_NANOS) {
            dirtyLow = dirtyPagesLow.getAsBoolean();
            sampledAt = now;
        }
        if (!dirtyLow || threadRequests.get() != 0) {
            busy.set(false);
            return false;
        }
        return true;
    }

    /** Releases the slot; {@code startedAt} is the clock when {@link #tryEnter} returned true. */
    void finished(long startedAt) {
        long now = clock.getAsLong();
        if (now - startedAt > STALL_NANOS) {
            stalls.increment();
            closedUntil = now + PAUSE_NANOS;
        }
        inlined.increment();
        busy.set(false);
    }

    long now() {
        return clock.getAsLong();
    }

    /** Brackets each request run on the disk's I/O threads: while any is, writes are not inlined. */
    void threadRequestStarted() {
        threadRequests.incrementAndGet();
    }

    void threadRequestEnded() {
        threadRequests.decrementAndGet();
    }

    long inlined() {
        return inlined.sum();
    }

    long stalls() {
        return stalls.sum();
    }

    /** False when the file cannot be read or lacks the fields (an old kernel): the gate then stays closed. */
    static boolean procVmstatBelowBackground() {
        try {
            return belowBackground(Files.readString(Path.of("/proc/vmstat"), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static boolean belowBackground(String vmstat) {
        long dirty = -1;
        long writeback = -1;
        long background = -1;
        for (String line : vmstat.split("\n")) {
            int space = line.indexOf(' ');
            if (space < 0) {
                continue;
            }
            switch (line.substring(0, space)) {
                case "nr_dirty" -> dirty = Long.parseLong(line.substring(space + 1).trim());
                case "nr_writeback" -> writeback = Long.parseLong(line.substring(space + 1).trim());
                case "nr_dirty_background_threshold" -> background = Long.parseLong(line.substring(space + 1).trim());
                default -> { }
            }
        }
        return dirty >= 0 && writeback >= 0 && background > 0 && dirty + writeback < background;
    }
}
