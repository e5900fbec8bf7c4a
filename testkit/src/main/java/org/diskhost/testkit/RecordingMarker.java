package org.diskhost.testkit;

import java.util.BitSet;

import org.diskhost.api.layer.SectorMarker;

/**
 * A {@link SectorMarker} for tests: records the marks of one read of {@code count} sectors from {@code first}, and
 * fails a mark outside them as the contract says.
 */
public final class RecordingMarker implements SectorMarker {
    private final long first;
    private final long count;
    private final BitSet marked = new BitSet();

    public RecordingMarker(long first, long count) {
        this.first = first;
        this.count = count;
    }

    @Override
    public synchronized void set(long sector) {
        setRange(sector, 1);
    }

    @Override
    public synchronized void setRange(long sector, long n) {
        if (n < 0 || sector - first < 0 || sector - first > count - n) {
            throw new IllegalArgumentException("marked " + n + " sectors at " + sector + " outside the read of "
                    + count + " at " + first);
        }
        marked.set((int) (sector - first), (int) (sector - first + n));
    }

    @Override
    public synchronized void setAll() {
        marked.set(0, (int) count);
    }

    public synchronized boolean isMarked(long sector) {
        return marked.get((int) (sector - first));
    }

    /** How many sectors were marked. */
    public synchronized int cardinality() {
        return marked.cardinality();
    }

    public synchronized boolean allMarked() {
        return marked.cardinality() == count;
    }
}
