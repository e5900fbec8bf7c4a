package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.diskhost.api.change.DiskChange;
import org.diskhost.api.change.RuntimeChange;
import org.diskhost.api.resolve.Settings;

/**
 * A runtime change of the delays of one configured disk, from one configuration ({@value DelayComponent#FACTORY_PID}
 * factory configuration): each given delay replaces the spec's; an absent one leaves the spec's in force.
 *
 * @param source the configuration's PID, shown by {@code inspect}
 * @param diskName the configured disk whose delay layers it changes
 */
record DelayChange(String source, String diskName, Optional<Duration> read, Optional<Duration> write)
        implements DiskChange {
    /** Configuration property: the disk's name (by default the name of a named factory configuration). */
    static final String NAME = RuntimeChange.NAME;

    DelayChange {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(diskName, "diskName");
        Objects.requireNonNull(read, "read");
        Objects.requireNonNull(write, "write");
    }

    /** The delays in force for a layer whose spec gave {@code configured}. */
    Delays applyTo(Delays configured) {
        return new Delays(read.orElse(configured.read()), write.orElse(configured.write()));
    }

    /**
     * Reads a change from configuration properties (see {@link RuntimeChange#parse}): {@value RuntimeChange#NAME} (or
     * the name in a PID such as {@code org.diskhost.delay~demo}), {@code readDelay} and {@code writeDelay} as
     * durations ({@code 250}, {@code "250ms"}, {@code "2s"}). Other properties, except the framework's own, are
     * errors, so a misspelt delay is not ignored.
     *
     * @throws IllegalArgumentException naming the property at fault
     */
    static DelayChange parse(String pid, Map<String, ?> properties) {
        RuntimeChange change = RuntimeChange.parse(pid, properties, DelayDiskResolver.KIND,
                DelayDiskResolver.READ_DELAY, DelayDiskResolver.WRITE_DELAY);
        return change.read(settings -> new DelayChange(change.source(), change.diskName(),
                delay(settings, DelayDiskResolver.READ_DELAY), delay(settings, DelayDiskResolver.WRITE_DELAY)));
    }

    /** A delay setting, if present: a duration from 0 to {@link Delays#MAX}. */
    static Optional<Duration> delay(Settings settings, String name) {
        if (!settings.has(name)) {
            return Optional.empty();
        }
        Duration d = settings.duration(name, Duration.ZERO);
        if (!Delays.isValid(d)) {
            throw settings.invalid(name, "must be at most " + Delays.show(Delays.MAX) + ", got " + Delays.show(d));
        }
        return Optional.of(d);
    }
}
