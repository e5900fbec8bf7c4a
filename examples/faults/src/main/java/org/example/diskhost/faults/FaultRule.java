package org.example.diskhost.faults;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

import org.diskhost.api.DiskError;
import org.diskhost.api.MediumErrorDetails;
import org.diskhost.api.resolve.Settings;

/**
 * Which requests a faults disk fails, and with what: requests of the operations {@code ops} that touch the sectors
 * {@code [from, end)} fail with {@code error} with probability {@code rate}, while {@code file} exists (always when
 * there is no file). A flush has no range: it fails whenever {@code flush} is among the operations.
 *
 * @param ops the operations that fail
 * @param error the error they fail with
 * @param medium the detail of a {@link InjectedError#MEDIUM} error
 * @param rate the probability that a matching request fails, from 0 (never) to 1 (always)
 * @param from the first sector of the faulted range
 * @param end the sector after the faulted range; {@link Long#MAX_VALUE} for the end of the disk
 * @param file while this file exists the faults are active; empty: always
 */
record FaultRule(Set<Operation> ops, InjectedError error, MediumErrorDetails medium, double rate, long from, long end,
        Optional<Path> file) {
    static final String OPS = "ops";
    static final String ERROR = "error";
    static final String MEDIUM = "medium";
    static final String RATE = "rate";
    static final String FROM = "from";
    static final String COUNT = "count";
    static final String FILE = "file";
    /** Every setting of a rule, which are also what a runtime change may set. */
    static final String[] SETTINGS = {OPS, ERROR, MEDIUM, RATE, FROM, COUNT, FILE};

    FaultRule {
        ops = Set.copyOf(ops);
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(medium, "medium");
        Objects.requireNonNull(file, "file");
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("rate must be between 0 and 1: " + rate);
        }
        if (from < 0 || end <= from) {
            throw new IllegalArgumentException("empty or negative range: " + from + " to " + end);
        }
    }

    /**
     * Reads a rule from settings, each with its default: {@code ops} all four, {@code error} {@code io},
     * {@code medium} {@code unrecoveredReadError}, {@code rate} 1, {@code from} 0, {@code count} to the end of the
     * disk, no {@code file}. A setting other than these (and {@code disk}, which the caller takes) is not looked at.
     *
     * @throws org.diskhost.api.resolve.ResolveException naming the disk, the kind and the setting at fault
     */
    static FaultRule parse(Settings settings) {
        long from = settings.integer(FROM, 0);
        if (from < 0) {
            throw settings.invalid(FROM, "must not be negative, got " + from);
        }
        long end = Long.MAX_VALUE;
        if (settings.has(COUNT)) {
            long count = settings.integer(COUNT, 0);
            if (count < 1) {
                throw settings.invalid(COUNT, "must be at least 1 sector, got " + count);
            }
            if (count > Long.MAX_VALUE - from) {
                throw settings.invalid(COUNT, "the range from sector " + from + " of " + count + " sectors is too large");
            }
            end = from + count;
        }
        return new FaultRule(ops(settings), named(settings, ERROR, InjectedError.values(), InjectedError::settingName,
                InjectedError.IO), named(settings, MEDIUM, MediumErrorDetails.values(), FaultRule::mediumName,
                MediumErrorDetails.UNRECOVERED_READ_ERROR), rate(settings), from, end, settings.optionalPath(FILE));
    }

    /** The rule as settings again (strings and lists of strings): what {@code inspect} shows. */
    Map<String, Object> toSettings() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(OPS, Arrays.stream(Operation.values()).filter(ops::contains).map(Operation::settingName).toList());
        out.put(ERROR, error.settingName());
        if (error == InjectedError.MEDIUM) {
            out.put(MEDIUM, mediumName(medium));
        }
        out.put(RATE, Double.toString(rate));
        out.put(FROM, Long.toString(from));
        if (end != Long.MAX_VALUE) {
            out.put(COUNT, Long.toString(end - from));
        }
        file.ifPresent(f -> out.put(FILE, f.toString()));
        return out;
    }

    /** Whether a request of {@code op} on {@code count} sectors at {@code sector} fails now, with the rate's odds. */
    boolean fires(Operation op, long sector, long count) {
        if (!ops.contains(op) || rate == 0 || (op != Operation.FLUSH && !touches(sector, count))) {
            return false;
        }
        if (file.isPresent() && !Files.exists(file.get())) {
            return false;
        }
        return rate == 1 || ThreadLocalRandom.current().nextDouble() < rate;
    }

    /** Whether {@code count} sectors at {@code sector} overlap the range; a zero-length request, its first sector. */
    boolean touches(long sector, long count) {
        long last = sector + Math.max(count, 1) - 1; // the Disk handle has rejected wrapping ranges
        return Long.compareUnsigned(sector, end) < 0 && Long.compareUnsigned(last, from) >= 0;
    }

    /** Whether the fault is armed: its file exists, or it has none. */
    boolean armed() {
        return file.isEmpty() || Files.exists(file.get());
    }

    DiskError errorFor(Operation op) {
        return error.create(op, medium);
    }

    @Override
    public String toString() {
        return toSettings().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** A medium error's name in settings: {@code UNRECOVERED_READ_ERROR} is {@code unrecoveredReadError}. */
    static String mediumName(MediumErrorDetails details) {
        StringBuilder out = new StringBuilder();
        for (String word : details.name().toLowerCase(Locale.ROOT).split("_")) {
            out.append(out.isEmpty() ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
        }
        return out.toString();
    }

    private static Set<Operation> ops(Settings settings) {
        Object value = settings.values().get(OPS);
        if (value == null) {
            return EnumSet.allOf(Operation.class);
        }
        List<String> names = new ArrayList<>();
        if (value instanceof String s) {
            Arrays.stream(s.split(",")).map(String::trim).filter(n -> !n.isEmpty()).forEach(names::add);
        } else if (value instanceof List<?> list) {
            list.forEach(item -> names.add(String.valueOf(item).trim()));
        } else if (value instanceof String[] array) { // a Configuration Admin property
            names.addAll(Arrays.asList(array));
        } else {
            throw settings.invalid(OPS, "must be a list or a comma-separated string of read, write, flush, unmap");
        }
        if (names.isEmpty()) {
            throw settings.invalid(OPS, "must name at least one of read, write, flush, unmap (set rate 0 to turn "
                    + "the faults off)");
        }
        Set<Operation> ops = EnumSet.noneOf(Operation.class);
        for (String name : names) {
            ops.add(Arrays.stream(Operation.values()).filter(o -> o.settingName().equals(name)).findFirst()
                    .orElseThrow(() -> settings.invalid(OPS, "unknown operation \"" + name
                            + "\" (known: read, write, flush, unmap)")));
        }
        return ops;
    }

    private static double rate(Settings settings) {
        Object value = settings.values().get(RATE);
        if (value == null) {
            return 1;
        }
        double rate;
        if (value instanceof Number n) {
            rate = n.doubleValue();
        } else if (value instanceof String s) {
            String text = s.trim();
            boolean percent = text.endsWith("%");
            try {
                rate = Double.parseDouble(percent ? text.substring(0, text.length() - 1).trim() : text);
            } catch (NumberFormatException e) {
                throw settings.invalid(RATE, "must be a probability such as 0.1 or \"10%\", got \"" + s + "\"");
            }
            if (percent) {
                rate /= 100;
            }
        } else {
            throw settings.invalid(RATE, "must be a probability such as 0.1 or \"10%\", got " + value);
        }
        if (!(rate >= 0 && rate <= 1)) {
            throw settings.invalid(RATE, "must be between 0 and 1 (or 0% and 100%), got " + value);
        }
        return rate;
    }

    private static <T> T named(Settings settings, String setting, T[] values, java.util.function.Function<T, String> name,
            T defaultValue) {
        Optional<String> given = settings.optionalString(setting);
        if (given.isEmpty()) {
            return defaultValue;
        }
        for (T value : values) {
            if (name.apply(value).equals(given.get().trim())) {
                return value;
            }
        }
        throw settings.invalid(setting, "unknown " + setting + " \"" + given.get() + "\" (known: "
                + Arrays.stream(values).map(name).collect(Collectors.joining(", ")) + ")");
    }
}
