package org.diskhost.api.handover;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one chain element hands its successor: named values of JDK types only ({@link String}, {@link Boolean},
 * {@link Integer}, {@link Long}, {@link Duration}, {@code byte[]}, {@code long[]}, and {@link List}s and
 * {@link Map}s of these), since the successor's classes come from another class loader. Arrays, lists and maps are
 * handed over, not copied, so handing over a large store costs nothing: the exporter must not touch them afterwards,
 * and the importer owns them. The entries of a map are not checked here (a store may hold millions): the importer
 * checks what it takes over.
 *
 * @param format what the values mean, as {@code org.diskhost.ram}; an importer refuses a format it does not know
 * @param version the format's version, from 1; an importer reads the versions up to its own
 * @param values the state, by name
 */
public record HandoverState(String format, int version, Map<String, Object> values) {

    public HandoverState {
        Objects.requireNonNull(format, "format");
        if (version < 1) {
            throw new IllegalArgumentException("handover state " + format + ": version must be at least 1, not "
                    + version);
        }
        values = Map.copyOf(values);
        values.forEach((name, value) -> check(format, name, value));
    }

    private static void check(String format, String name, Object value) {
        switch (value) {
            case String s -> { }
            case Boolean b -> { }
            case Integer i -> { }
            case Long l -> { }
            case Duration d -> { }
            case byte[] bytes -> { }
            case long[] longs -> { }
            case List<?> list -> list.forEach(element -> check(format, name, element));
            case Map<?, ?> map -> { }
            default -> throw new IllegalArgumentException("handover state " + format + ": '" + name + "' is a "
                    + value.getClass().getName() + ", which a successor cannot read; use JDK values");
        }
    }

    /**
     * Checks that this state is in {@code format} at a version up to {@code maxVersion}, the newest this importer
     * reads.
     *
     * @return this state
     * @throws IllegalArgumentException naming both formats or versions when it is not
     */
    public HandoverState require(String format, int maxVersion) {
        if (!this.format.equals(format)) {
            throw new IllegalArgumentException("handed-over state is " + this.format + ", not " + format);
        }
        if (version > maxVersion) {
            throw new IllegalArgumentException("handed-over state " + format + " is version " + version
                    + ", newer than version " + maxVersion + " that this backend reads");
        }
        return this;
    }

    public String string(String name) {
        return value(name, String.class);
    }

    public boolean bool(String name) {
        return value(name, Boolean.class);
    }

    public int integer(String name) {
        return value(name, Integer.class);
    }

    public long number(String name) {
        return value(name, Long.class);
    }

    public Duration duration(String name) {
        return value(name, Duration.class);
    }

    public byte[] bytes(String name) {
        return value(name, byte[].class);
    }

    public long[] longs(String name) {
        return value(name, long[].class);
    }

    /** A list whose elements are all of {@code elementType}. */
    public <T> List<T> list(String name, Class<T> elementType) {
        List<?> list = value(name, List.class);
        for (Object element : list) {
            if (!elementType.isInstance(element)) {
                throw new IllegalArgumentException("handover state " + format + ": '" + name + "' holds a "
                        + element.getClass().getSimpleName() + ", not a " + elementType.getSimpleName());
            }
        }
        @SuppressWarnings("unchecked")
        List<T> typed = (List<T>) list;
        return typed;
    }

    /** Whether the state has a value named {@code name} (an optional value, added in a later version). */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /**
     * The value named {@code name}.
     *
     * @throws IllegalArgumentException when it is missing or of another type
     */
    public <T> T value(String name, Class<T> type) {
        Object value = values.get(name);
        if (value == null) {
            throw new IllegalArgumentException("handover state " + format + " v" + version + " has no '" + name
                    + "'");
        }
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("handover state " + format + " v" + version + ": '" + name
                    + "' is a " + value.getClass().getSimpleName() + ", not a " + type.getSimpleName());
        }
        return type.cast(value);
    }

    @Override
    public String toString() {
        return format + " v" + version + " " + values.keySet();
    }
}
