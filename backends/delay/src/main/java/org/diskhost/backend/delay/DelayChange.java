package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * A runtime change of the delays of one configured disk, from one configuration ({@value DelayComponent#FACTORY_PID}
 * factory configuration): each given delay replaces the spec's; an absent one leaves the spec's in force.
 *
 * @param source the configuration's PID, shown by {@code inspect}
 * @param diskName the configured disk whose delay layers it changes
 */
record DelayChange(String source, String diskName, Optional<Duration> read, Optional<Duration> write) {
    /** Configuration property: the disk's name (by default the name of a named factory configuration). */
    static final String NAME = "diskhost.name";

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
     * Reads a change from configuration properties: {@value #NAME} (or the name in a PID such as
     * {@code org.diskhost.delay~demo}), {@code readDelay} and {@code writeDelay} as durations ({@code 250},
     * {@code "250ms"}, {@code "2s"}). Other properties, except the framework's own ({@code service.*},
     * {@code felix.*}, {@code component.*}, {@code diskhost.*}), are errors, so a misspelt delay is not ignored.
     *
     * @throws IllegalArgumentException naming the property at fault
     */
    static DelayChange parse(String pid, Map<String, ?> properties) {
        Object name = properties.get(NAME);
        if (name == null) {
            int tilde = pid.indexOf('~');
            if (tilde < 0) {
                throw new IllegalArgumentException(NAME + ": missing; name the disk whose delays change");
            }
            name = pid.substring(tilde + 1);
        }
        String diskName = name.toString();
        Map<String, Object> delays = new LinkedHashMap<>();
        properties.forEach((key, value) -> {
            if (!key.startsWith("service.") && !key.startsWith("felix.") && !key.startsWith("component.")
                    && !key.startsWith("diskhost.")) {
                delays.put(key, value);
            }
        });
        try {
            Settings settings = Settings.of(diskName, DelayDiskResolver.KIND, delays, null);
            settings.allowOnly(DelayDiskResolver.READ_DELAY, DelayDiskResolver.WRITE_DELAY);
            return new DelayChange(pid, diskName, delay(settings, DelayDiskResolver.READ_DELAY),
                    delay(settings, DelayDiskResolver.WRITE_DELAY));
        } catch (ResolveException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
