package org.diskhost.api.resolve;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A disk's configuration: its kind and its settings. In configuration a spec is an object whose {@code kind} member
 * names the kind and whose other members are the settings, for example
 * {@code {"kind": "file", "path": "demo.img", "create": "64 MiB"}}; a nested disk is such an object as a setting's
 * value.
 */
public record DiskSpec(String kind, Settings settings) {
    /** The member of a configuration object that holds the kind. */
    public static final String KIND = "kind";

    public DiskSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(settings, "settings");
    }

    /**
     * Reads a spec from a configuration object.
     *
     * @param diskName the configured disk's name, for messages
     * @param config the object: {@code kind} and the settings
     * @param baseDirectory what relative paths in the settings are relative to
     * @throws ResolveException with {@link ResolveError.ParseError} when {@code kind} is missing or not a string
     */
    public static DiskSpec parse(String diskName, Map<String, ?> config, Path baseDirectory) {
        return parse(diskName, "", config, baseDirectory);
    }

    static DiskSpec parse(String diskName, String where, Map<String, ?> config, Path baseDirectory) {
        Object kind = config.get(KIND);
        String setting = where.isEmpty() ? KIND : where + "." + KIND;
        if (!(kind instanceof String name) || name.isBlank()) {
            throw new ResolveException(new ResolveError.ParseError(diskName, kind == null ? "?" : kind.toString(),
                    setting, kind == null ? "missing: every disk needs a kind" : "must be a kind name"));
        }
        Map<String, Object> values = new LinkedHashMap<>(config);
        values.remove(KIND);
        return new DiskSpec(name, new Settings(diskName, name, where, values, baseDirectory));
    }
}
