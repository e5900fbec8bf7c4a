package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.Objects;

/**
 * The delays of a delay disk: one before each read, one before each write. Every other operation is not delayed.
 *
 * @param read how long a read waits before it is sent to the disk below; not negative
 * @param write how long a write waits before it is sent to the disk below; not negative
 */
record Delays(Duration read, Duration write) {
    /** The longest delay accepted, so that a slip of unit (250h for 250ms) is caught. Declared before NONE. */
    static final Duration MAX = Duration.ofHours(1);

    static final Delays NONE = new Delays(Duration.ZERO, Duration.ZERO);

    Delays {
        Objects.requireNonNull(read, "read");
        Objects.requireNonNull(write, "write");
        if (!isValid(read) || !isValid(write)) {
            throw new IllegalArgumentException("delays must be between 0 and " + MAX + ": " + read + ", " + write);
        }
    }

    static boolean isValid(Duration delay) {
        return !delay.isNegative() && delay.compareTo(MAX) <= 0;
    }

    @Override
    public String toString() {
        return "read " + show(read) + ", write " + show(write);
    }

    /** A duration as a user writes one: {@code 0}, {@code 250ms}, {@code 1500us}, {@code 2s}. */
    static String show(Duration d) {
        long nanos = d.toNanos();
        if (nanos == 0) {
            return "0";
        }
        if (nanos % 1_000_000_000L == 0) {
            return nanos / 1_000_000_000L + "s";
        }
        if (nanos % 1_000_000L == 0) {
            return nanos / 1_000_000L + "ms";
        }
        return nanos % 1000 == 0 ? nanos / 1000 + "us" : nanos + "ns";
    }
}
