package org.diskhost.backend.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class InlineWritesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final AtomicBoolean dirtyLow = new AtomicBoolean(true);
    private final AtomicInteger samples = new AtomicInteger();
    private final InlineWrites gate = new InlineWrites(() -> {
        samples.incrementAndGet();
        return dirtyLow.get();
    }, clock::get);

    @Test
    void onlyWholePagesUpToTheLimit() {
        assertTrue(enterAndFinish(4096, 4096));
        assertTrue(enterAndFinish(0, FileDisk.CACHED_READ_LIMIT));
        assertFalse(gate.tryEnter(512, 4096), "not page aligned");
        assertFalse(gate.tryEnter(4096, 512), "part of a page");
        assertFalse(gate.tryEnter(0, FileDisk.CACHED_READ_LIMIT + 4096), "too large");
        assertEquals(2, gate.inlined());
    }

    @Test
    void oneAtATimeAndNeverBesideTheIoThreads() {
        assertTrue(gate.tryEnter(0, 4096));
        assertFalse(gate.tryEnter(4096, 4096), "a second caller does not queue behind the first");
        gate.finished(gate.now());
        gate.threadRequestStarted();
        assertFalse(gate.tryEnter(0, 4096), "an I/O thread may hold the inode lock");
        gate.threadRequestEnded();
        assertTrue(enterAndFinish(0, 4096));
    }

    @Test
    void dirtyPagesAreSampledAtMostEverySamplePeriod() {
        assertTrue(enterAndFinish(0, 4096));
        dirtyLow.set(false);
        assertTrue(enterAndFinish(0, 4096), "the sample is still fresh");
        assertEquals(1, samples.get());
        clock.addAndGet(InlineWrites.SAMPLE_NANOS);
        assertFalse(gate.tryEnter(0, 4096), "above the background threshold now");
        assertEquals(2, samples.get());
        dirtyLow.set(true);
        clock.addAndGet(InlineWrites.SAMPLE_NANOS);
        assertTrue(enterAndFinish(0, 4096));
    }

    @Test
    void aSlowWriteClosesTheGateForAPause() {
        assertTrue(gate.tryEnter(0, 4096));
        long startedAt = gate.now();
        clock.addAndGet(InlineWrites.STALL_NANOS + 1);
        gate.finished(startedAt);
        assertEquals(1, gate.stalls());
        assertFalse(gate.tryEnter(0, 4096));
        clock.addAndGet(InlineWrites.PAUSE_NANOS - 1);
        assertFalse(gate.tryEnter(0, 4096), "still paused");
        clock.addAndGet(1);
        assertTrue(enterAndFinish(0, 4096));
    }

    @Test
    void vmstatIsReadForDirtyWritebackAndTheBackgroundThreshold() {
        String low = "nr_free_pages 100\nnr_dirty 10\nnr_writeback 5\nnr_dirty_threshold 400\n"
                + "nr_dirty_background_threshold 200\n";
        assertTrue(InlineWrites.belowBackground(low));
        assertFalse(InlineWrites.belowBackground(low.replace("nr_writeback 5", "nr_writeback 190")));
        assertFalse(InlineWrites.belowBackground("nr_dirty 10\nnr_writeback 5\n"), "no threshold: stay closed");
        assertFalse(InlineWrites.belowBackground(""));
    }

    private boolean enterAndFinish(long offset, long length) {
        if (!gate.tryEnter(offset, length)) {
            return false;
        }
        gate.finished(gate.now());
        return true;
    }
}
