package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The ordering {@link WriteGate} promises, with steps whose completion the test controls. */
@Timeout(60)
class WriteGateTest {
    private final WriteGate gate = new WriteGate();

    /** A step that records that it started and completes when the test says so. */
    private static final class Step {
        final CompletableFuture<Void> finish = new CompletableFuture<>();
        boolean started;

        CompletableFuture<Void> run() {
            started = true;
            return finish;
        }
    }

    @Test
    void plainWritesRunAtOnceAndRegisterNothingWhileNoReadModifyWriteIsAround() {
        Step a = new Step();
        Step b = new Step();
        CompletableFuture<Void> da = gate.write(0, 8, a::run);
        CompletableFuture<Void> db = gate.write(4, 8, b::run);
        assertTrue(a.started && b.started, "overlapping plain writes do not wait for each other");
        assertEquals(0, gate.holds(), "the fast path records no range");
        a.finish.complete(null);
        b.finish.complete(null);
        assertTrue(da.isDone() && db.isDone());
    }

    @Test
    void aReadModifyWriteWaitsForPlainWritesAlreadyRunningAndLaterOnesWaitForIt() {
        Step plain = new Step();
        gate.write(10, 1, plain::run);
        Step rmw = new Step();
        CompletableFuture<Void> done = gate.readModifyWrite(10, 1, rmw::run);
        assertFalse(rmw.started, "a fast-path write of unknown range is in flight");
        Step overlapping = new Step();
        gate.write(10, 4, overlapping::run);
        Step elsewhere = new Step();
        gate.write(11, 4, elsewhere::run);
        assertFalse(overlapping.started, "waits for the read-modify-write of its sector");
        assertTrue(elsewhere.started, "a write of other sectors does not wait");
        plain.finish.complete(null);
        assertTrue(rmw.started, "the fast-path write is done");
        assertFalse(overlapping.started);
        rmw.finish.complete(null);
        assertTrue(done.isDone());
        assertTrue(overlapping.started);
        overlapping.finish.complete(null);
        elsewhere.finish.complete(null);
        assertEquals(0, gate.holds());
        Step after = new Step();
        gate.write(10, 1, after::run);
        assertTrue(after.started);
        assertEquals(0, gate.holds(), "back on the fast path");
    }

    @Test
    void theFastPathOfACallerThatCompletesItselfHoldsOffReadModifyWritesUntilItLeaves() {
        assertTrue(gate.tryEnter());
        Step rmw = new Step();
        gate.readModifyWrite(0, 1, rmw::run);
        assertFalse(rmw.started);
        assertFalse(gate.tryEnter(), "a read-modify-write is registered: use write()");
        gate.leave();
        assertTrue(rmw.started);
        rmw.finish.complete(null);
        assertTrue(gate.tryEnter(), "nothing registered any more");
        gate.leave();
        assertEquals(0, gate.holds());
    }

    @Test
    void readModifyWritesOfOneSectorRunOneAtATimeInArrivalOrderAndOthersAtOnce() {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Step s = new Step();
            steps.add(s);
            gate.readModifyWrite(5, 1, s::run);
        }
        Step other = new Step();
        gate.readModifyWrite(6, 1, other::run);
        assertTrue(other.started, "another sector");
        assertTrue(steps.get(0).started);
        assertFalse(steps.get(1).started);
        steps.get(0).finish.complete(null);
        assertTrue(steps.get(1).started);
        assertFalse(steps.get(2).started);
        steps.get(1).finish.complete(null);
        assertTrue(steps.get(2).started);
        steps.get(2).finish.complete(null);
        other.finish.complete(null);
        assertEquals(0, gate.holds());
    }

    @Test
    void aPlainWriteOverlappingAWaitingReadModifyWriteQueuesBehindIt() {
        Step running = new Step();
        gate.readModifyWrite(0, 4, running::run);
        Step waiting = new Step();
        gate.readModifyWrite(3, 2, waiting::run);
        Step plain = new Step();
        gate.write(4, 1, plain::run); // overlaps only the waiting one
        assertFalse(waiting.started);
        assertFalse(plain.started, "first come, first served: the read-modify-write that came first goes first");
        running.finish.complete(null);
        assertTrue(waiting.started);
        assertFalse(plain.started);
        waiting.finish.complete(null);
        assertTrue(plain.started);
    }

    @Test
    void aFailedOrThrowingStepReleasesItsSectors() {
        CompletableFuture<Void> failed = gate.readModifyWrite(0, 1,
                () -> CompletableFuture.failedFuture(new IllegalStateException("disk failed")));
        assertTrue(failed.isCompletedExceptionally());
        CompletableFuture<Void> thrown = gate.readModifyWrite(0, 1, () -> {
            throw new IllegalStateException("bug");
        });
        assertTrue(thrown.isCompletedExceptionally());
        CompletableFuture<Void> fastThrown = gate.write(0, 1, () -> {
            throw new IllegalStateException("bug");
        });
        assertTrue(fastThrown.isCompletedExceptionally());
        Step next = new Step();
        gate.readModifyWrite(0, 1, next::run);
        assertTrue(next.started, "nothing is held any more");
        next.finish.complete(null);
        assertEquals(0, gate.holds());
    }

    @Test
    void aLongLineOfConflictingRequestsThatCompleteAtOnceDoesNotOverflowTheStack() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        int n = 3000;
        CompletableFuture<Void> all = new CompletableFuture<>();
        // A small stack: releasing the line recursively would need far more than 256 KiB.
        Thread t = Thread.ofPlatform().stackSize(256 * 1024).start(() -> {
            Step first = new Step();
            gate.readModifyWrite(0, 1, first::run);
            List<CompletableFuture<Void>> line = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                line.add(i % 2 == 0
                        ? gate.readModifyWrite(0, 1, () -> CompletableFuture.runAsync(ran::incrementAndGet, Runnable::run))
                        : gate.write(0, 1, () -> CompletableFuture.runAsync(ran::incrementAndGet, Runnable::run)));
            }
            try {
                first.finish.complete(null); // releases the whole line, each step completing on this thread
                // A stack overflow inside a completion would leave a step unfinished: a timeout, not a hang.
                CompletableFuture.allOf(line.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
                all.complete(null);
            } catch (Throwable e) {
                all.completeExceptionally(e);
            }
        });
        t.join();
        all.join();
        assertEquals(n, ran.get());
        assertEquals(0, gate.holds());
    }

    @Test
    void concurrentCallersLeaveNothingHeld() throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        for (int t = 0; t < 4; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 20_000; i++) {
                    long sector = (i * 7L + id) % 16;
                    CompletableFuture<Void> f = (i + id) % 5 == 0
                            ? gate.readModifyWrite(sector, 1, () -> CompletableFuture.runAsync(() -> { }))
                            : gate.write(sector, 2, () -> CompletableFuture.runAsync(() -> { }));
                    try {
                        f.join();
                    } catch (CompletionException e) {
                        failures.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, failures.get());
        assertEquals(0, gate.holds());
    }
}
