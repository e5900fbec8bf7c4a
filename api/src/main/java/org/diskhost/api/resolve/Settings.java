package org.diskhost.api.resolve;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings of one disk in a chain, with typed accessors. Every accessor that finds a setting missing or
 * malformed throws a {@link ResolveException} with a {@link ResolveError.ParseError} naming the disk, the kind and
 * the setting (a dotted path for nested disks, such as {@code disk.path}). Values are what a JSON parser produces:
 * strings, numbers, booleans, lists and objects.
 */
public final class Settings {
    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+)\\s*([a-zA-Z]*)\\s*");
    private static final Pattern DURATION = Pattern.compile("\\s*(\\d+)\\s*(ns|us|ms|s|m|h)?\\s*");

    private final String diskName;
    private final String kind;
    private final String where;
    private final Map<String, Object> values;
    private final Path baseDirectory;

    Settings(String diskName, String kind, String where, Map<String, Object> values, Path baseDirectory) {
        this.diskName = diskName;
        this.kind = kind;
        this.where = where;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.baseDirectory = baseDirectory;
    }

    /** Settings of a top-level disk of {@code kind}. */
    public static Settings of(String diskName, String kind, Map<String, ?> values, Path baseDirectory) {
        return new Settings(diskName, kind, "", new LinkedHashMap<>(values), baseDirectory);
    }

    public String diskName() {
        return diskName;
    }

    public String kind() {
        return kind;
    }

    /** The raw values, without the kind. */
    public Map<String, Object> values() {
        return values;
    }

    public Set<String> names() {
        return values.keySet();
    }

    public boolean has(String name) {
        return values.get(name) != null;
    }

    /**
     * These settings without {@code names}: the same disk, kind and place in the chain, so errors still name the
     * settings as configured. For a resolver that consumes some settings and hands the rest on (a layered disk's
     * per-layer flags, a shorthand that builds layers from its settings).
     *
     * @since 1.1
     */
    public Settings without(String... names) {
        Map<String, Object> rest = new LinkedHashMap<>(values);
        for (String name : names) {
            rest.remove(name);
        }
        return new Settings(diskName, kind, where, rest, baseDirectory);
    }

    /** Fails on any setting not in {@code known}: a misspelt setting is an error, not silently ignored. */
    public void allowOnly(String... known) {
        Set<String> allowed = Set.of(known);
        for (String name : values.keySet()) {
            if (!allowed.contains(name)) {
                throw invalid(name, "unknown setting for kind '" + kind + "' (known: "
                        + String.join(", ", new TreeSet<>(allowed)) + ")");
            }
        }
    }

    /** A required string. */
    public String string(String name) {
        return optionalString(name).orElseThrow(() -> missing(name));
    }

    public Optional<String> optionalString(String name) {
        Object v = values.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof String s) {
            return Optional.of(s);
        }
        throw invalid(name, "must be a string, got " + describe(v));
    }

    public boolean bool(String name, boolean defaultValue) {
        Object v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s);
        }
        throw invalid(name, "must be true or false, got " + describe(v));
    }

    public long integer(String name, long defaultValue) {
        Object v = values.get(name);
        return v == null ? defaultValue : integerValue(name, v);
    }

    public OptionalLong optionalInteger(String name) {
        Object v = values.get(name);
        return v == null ? OptionalLong.empty() : OptionalLong.of(integerValue(name, v));
    }

    /** A required byte size (see {@link #optionalSize}). */
    public long size(String name) {
        return optionalSize(name).orElseThrow(() -> missing(name));
    }

    /**
     * A byte size: a non-negative integer, or a string such as {@code "64 MiB"}. Units: {@code K, M, G, T} and
     * {@code KiB, MiB, GiB, TiB} are powers of 1024; {@code kB, MB, GB, TB} powers of 1000; {@code B} or none is bytes.
     */
    public OptionalLong optionalSize(String name) {
        Object v = values.get(name);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!(v instanceof String s)) {
            long n = integerValue(name, v);
            if (n < 0) {
                throw invalid(name, "must not be negative, got " + n);
            }
            return OptionalLong.of(n);
        }
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw invalid(name, "must be a size such as 4096, \"64 MiB\" or \"2G\", got \"" + s + "\"");
        }
        long multiplier = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "k", "kib" -> 1L << 10;
            case "m", "mib" -> 1L << 20;
            case "g", "gib" -> 1L << 30;
            case "t", "tib" -> 1L << 40;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            default -> throw invalid(name, "unknown size unit \"" + m.group(2) + "\" in \"" + s + "\"");
        };
        try {
            return OptionalLong.of(Math.multiplyExact(Long.parseLong(m.group(1)), multiplier));
        } catch (ArithmeticException | NumberFormatException e) {
            throw invalid(name, "size too large: \"" + s + "\"");
        }
    }

    /** A required path; a relative path is relative to the configuration's base directory. */
    public Path path(String name) {
        return optionalPath(name).orElseThrow(() -> missing(name));
    }

    public Optional<Path> optionalPath(String name) {
        return optionalString(name).map(s -> {
            if (s.isBlank()) {
                throw invalid(name, "must not be empty");
            }
            try {
                Path p = Path.of(s);
                return baseDirectory == null || p.isAbsolute() ? p : baseDirectory.resolve(p);
            } catch (java.nio.file.InvalidPathException e) {
                throw invalid(name, "not a valid path: " + e.getMessage());
            }
        });
    }

    /** A duration: a number of milliseconds, or a string such as {@code "250ms"}, {@code "2s"}, {@code "100us"}. */
    public Duration duration(String name, Duration defaultValue) {
        Object v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        if (!(v instanceof String s)) {
            long ms = integerValue(name, v);
            if (ms < 0) {
                throw invalid(name, "must not be negative, got " + ms);
            }
            return Duration.ofMillis(ms);
        }
        Matcher m = DURATION.matcher(s);
        if (!m.matches()) {
            throw invalid(name, "must be a duration such as 250, \"250ms\" or \"2s\", got \"" + s + "\"");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "ns" -> Duration.ofNanos(n);
            case "us" -> Duration.ofNanos(Math.multiplyExact(n, 1000L));
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /** Bytes given as hex digits. The value never appears in an error message, whatever its type. */
    public Optional<byte[]> optionalHex(String name) {
        Object v = values.get(name);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof String s)) { // not optionalString: its message would show the value
            throw invalid(name, "must be a string of hex digits");
        }
        try {
            return Optional.of(HexFormat.of().parseHex(s.replace(" ", "")));
        } catch (IllegalArgumentException e) {
            throw invalid(name, "must be hex digits");
        }
    }

    /** A required nested disk. */
    public DiskSpec disk(String name) {
        Object v = values.get(name);
        if (v == null) {
            throw missing(name);
        }
        return nested(name, v);
    }

    /** A required, non-empty list of nested disks. */
    public List<DiskSpec> disks(String name) {
        Object v = values.get(name);
        if (v == null) {
            throw missing(name);
        }
        if (!(v instanceof List<?> list) || list.isEmpty()) {
            throw invalid(name, "must be a non-empty list of disks, got " + describe(v));
        }
        List<DiskSpec> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            out.add(nested(name + "[" + i + "]", list.get(i)));
        }
        return out;
    }

    private DiskSpec nested(String name, Object v) {
        if (!(v instanceof Map<?, ?> map)) {
            throw invalid(name, "must be a disk: an object with a kind, got " + describe(v));
        }
        Map<String, Object> config = new LinkedHashMap<>();
        map.forEach((k, value) -> config.put(String.valueOf(k), value));
        return DiskSpec.parse(diskName, qualified(name), config, baseDirectory);
    }

    /** A parse error for setting {@code name}: to throw when a value is present but unusable. */
    public ResolveException invalid(String name, String problem) {
        return new ResolveException(new ResolveError.ParseError(diskName, kind, qualified(name), problem));
    }

    /** A resolver error for this disk: to throw when the backing store cannot be used. */
    public ResolveException failure(String problem, Throwable cause) {
        return new ResolveException(new ResolveError.ResolverError(diskName, kind, problem), cause);
    }

    private ResolveException missing(String name) {
        return invalid(name, "missing: required for kind '" + kind + "'");
    }

    private long integerValue(String name, Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 0x1p53) {
            return n.longValue();
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw invalid(name, "must be an integer, got " + describe(v));
    }

    private String qualified(String name) {
        return where.isEmpty() ? name : where + "." + name;
    }

    private static String describe(Object v) {
        return switch (v) {
            case String s -> "\"" + s + "\"";
            case Map<?, ?> m -> "an object";
            case List<?> l -> "a list";
            default -> String.valueOf(v);
        };
    }

    /** Equal when they are the same settings of the same disk and kind, at the same place in its chain. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Settings other && diskName.equals(other.diskName) && kind.equals(other.kind)
                && where.equals(other.where) && values.equals(other.values)
                && java.util.Objects.equals(baseDirectory, other.baseDirectory);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(diskName, kind, where, values);
    }

    @Override
    public String toString() {
        return "Settings[disk " + diskName + ", kind " + kind + ", " + values.keySet() + "]";
    }
}
