package org.diskhost.frontend.nbd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Orders the writes of one disk around its read-modify-write cycles, so that a request covering part of a sector
 * loses no other write to that sector, whichever connection sent it.
 *
 * <p>The guarantee: a {@linkplain #readModifyWrite read-modify-write} of sectors {@code [s, s + n)} holds them
 * exclusively from before its read until its write has completed; no other write of this gate that touches one of
 * them (a plain {@linkplain #write write}, unmap or another read-modify-write) runs in that window. Plain writes do
 * not exclude each other: the protocol leaves the outcome of overlapping writes in flight at once open, and the disk
 * writes every sector whole. So the content of every sector after any set of concurrent writes is that of some
 * serial order of the writes that touch it; bytes a read-modify-write did not ask for are never put back to an
 * older value. Conflicting requests start in the order they reached the gate, so none starves.
 *
 * <p>The cost for plain writes while no read-modify-write is registered is one compare-and-set to enter and one
 * atomic decrement to leave; their ranges are not recorded. While a read-modify-write is registered, plain writes
 * go through the lock and wait only for read-modify-writes of sectors they touch; a read-modify-write waits for the
 * fast-path writes that entered before it (whose ranges are unknown) and for the writes it overlaps.
 */
final class WriteGate {
    private static final long ONE_EXCLUSIVE = 1L << 32;
    private static final long FAST_MASK = ONE_EXCLUSIVE - 1;
    /** Holds admitted while this thread is already starting holds: started by the outer loop, not recursively. */
    private static final ThreadLocal<ArrayDeque<Hold>> STARTING = new ThreadLocal<>();

    /** High 32 bits: read-modify-writes registered (running or waiting); low 32 bits: fast-path writes running. */
    private final AtomicLong state = new AtomicLong();
    /** Writes that went through the lock, in arrival order, running or waiting; guarded by this. */
    private final List<Hold> holds = new ArrayList<>();

    /** A registered range: {@code go} completes when it may run. */
    private static final class Hold {
        final long start;
        final long end;
        final boolean exclusive;
        final CompletableFuture<Void> go = new CompletableFuture<>();
        boolean running;

        Hold(long start, long end, boolean exclusive) {
            this.start = start;
            this.end = end;
            this.exclusive = exclusive;
        }

        boolean conflicts(Hold other) {
            return (exclusive || other.exclusive) && start < other.end && other.start < end;
        }
    }

    /**
     * Runs {@code step}, a write of whole sectors {@code [sector, sector + count)}, once no read-modify-write of those
     * sectors is in its window; its completion releases them.
     */
    <T> CompletableFuture<T> write(long sector, long count, Supplier<CompletableFuture<T>> step) {
        if (tryEnter()) {
            return run(step).whenComplete((v, t) -> leave());
        }
        return held(new Hold(sector, sector + count, false), step);
    }

    /**
     * The fast path of {@link #write}, for a caller that completes the write itself: true when no read-modify-write
     * is registered, and then the caller must write and call {@link #leave} exactly once when the write has completed
     * (successfully or not); false when the caller must use {@link #write} instead.
     */
    boolean tryEnter() {
        long s = state.get();
        while ((s & ~FAST_MASK) == 0) {
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
            s = state.get();
        }
        return false;
    }

    /** Ends a write begun by a successful {@link #tryEnter}. */
    void leave() {
        long s = state.decrementAndGet();
        if ((s & FAST_MASK) == 0 && s != 0) {
            wake(); // the last fast-path write is done: a read-modify-write may be waiting for that
        }
    }

    /**
     * Runs {@code step}, which reads part of sectors {@code [sector, sector + count)} and writes them back, once it
     * has them to itself (see the class comment); its completion releases them.
     */
    <T> CompletableFuture<T> readModifyWrite(long sector, long count, Supplier<CompletableFuture<T>> step) {
        return held(new Hold(sector, sector + count, true), step);
    }

    private <T> CompletableFuture<T> held(Hold hold, Supplier<CompletableFuture<T>> step) {
        List<Hold> ready;
        synchronized (this) {
            if (hold.exclusive) {
                state.addAndGet(ONE_EXCLUSIVE); // from now on plain writes take the lock
            }
            holds.add(hold);
            ready = admit();
        }
        start(ready);
        return hold.go.thenCompose(v -> run(step)).whenComplete((v, t) -> release(hold));
    }

    private void release(Hold hold) {
        List<Hold> ready;
        synchronized (this) {
            holds.remove(hold);
            if (hold.exclusive) {
                state.addAndGet(-ONE_EXCLUSIVE);
            }
            ready = admit();
        }
        start(ready);
    }

    private void wake() {
        List<Hold> ready;
        synchronized (this) {
            ready = admit();
        }
        start(ready);
    }

    /** Marks the waiting holds that may run now and returns them, to be started outside the lock. */
    private List<Hold> admit() {
        List<Hold> ready = List.of();
        boolean fastWritesRunning = (state.get() & FAST_MASK) != 0;
        for (int i = 0; i < holds.size(); i++) {
            Hold h = holds.get(i);
            if (h.running || (h.exclusive && fastWritesRunning)) {
                continue;
            }
            boolean blocked = false;
            for (int j = 0; j < i && !blocked; j++) {
                blocked = holds.get(j).conflicts(h); // earlier ones, running or waiting: first come, first served
            }
            if (!blocked) {
                h.running = true;
                if (ready.isEmpty()) {
                    ready = new ArrayList<>();
                }
                ready.add(h);
            }
        }
        return ready;
    }

    /** Holds registered through the lock, running or waiting (for tests and diagnostics). */
    synchronized int holds() {
        return holds.size();
    }

    /**
     * Lets admitted holds run. A step may complete at once and release its hold, admitting the next: a loop rather
     * than recursion, so a long line of conflicting requests cannot overflow the stack.
     */
    private static void start(List<Hold> ready) {
        if (ready.isEmpty()) {
            return;
        }
        ArrayDeque<Hold> queue = STARTING.get();
        if (queue != null) {
            queue.addAll(ready);
            return;
        }
        queue = new ArrayDeque<>(ready);
        STARTING.set(queue);
        try {
            for (Hold h = queue.poll(); h != null; h = queue.poll()) {
                h.go.complete(null);
            }
        } finally {
            STARTING.remove();
        }
    }

    private static <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> step) {
        try {
            return step.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
