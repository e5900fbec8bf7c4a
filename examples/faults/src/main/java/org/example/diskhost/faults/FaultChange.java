package org.example.diskhost.faults;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.diskhost.api.change.DiskChange;
import org.diskhost.api.change.RuntimeChange;
import org.diskhost.api.resolve.Settings;

/**
 * A runtime change of the faults of one configured disk, from one factory configuration of
 * {@value FaultsComponent#FACTORY_PID}: each setting given replaces the spec's, the others stay as the spec says.
 *
 * @param source the configuration's PID, shown by {@code inspect}
 * @param diskName the configured disk whose faults layers it changes
 * @param values the settings it replaces, as strings and lists of strings
 */
record FaultChange(String source, String diskName, Map<String, Object> values) implements DiskChange {
    /** Configuration property: the disk's name (by default the name of a named factory configuration). */
    static final String NAME = RuntimeChange.NAME;

    FaultChange {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(diskName, "diskName");
        values = Map.copyOf(values);
    }

    /**
     * Reads a change from configuration properties (see {@link RuntimeChange#parse}): {@value #NAME} (or the name in
     * a PID such as {@code org.example.diskhost.faults~demo}) and any of the rule's settings ({@code ops},
     * {@code error}, {@code medium}, {@code rate}, {@code from}, {@code count}, {@code file}; the file as an absolute
     * path). Other properties, except the framework's own ({@code service.*}, {@code felix.*}, {@code component.*},
     * {@code diskhost.*}), are errors, so that a misspelt setting is not ignored.
     *
     * @throws IllegalArgumentException naming the disk, the kind and the property at fault
     */
    static FaultChange parse(String pid, Map<String, ?> properties) {
        RuntimeChange change = RuntimeChange.parse(pid, properties, FaultsDiskResolver.KIND, FaultRule.SETTINGS);
        // the values as a handover state holds them, so that a successor reads back the same change
        Map<String, Object> values = new LinkedHashMap<>();
        change.settings().values().forEach((key, value) -> values.put(key, handable(value)));
        change.read(ignored -> {
            Settings settings = Settings.of(change.diskName(), FaultsDiskResolver.KIND, values, null);
            FaultRule.parse(settings); // every value given is valid
            if (settings.optionalPath(FaultRule.FILE).filter(p -> !p.isAbsolute()).isPresent()) {
                throw settings.invalid(FaultRule.FILE, "must be an absolute path in a runtime change");
            }
            return null;
        });
        return new FaultChange(change.source(), change.diskName(), values);
    }

    /**
     * A value as a handover state may hold it (strings, longs, booleans, lists of strings), which the rule's parser
     * reads back the same: a configuration's {@code Double} rate becomes a string, an array a list.
     */
    static Object handable(Object value) {
        return switch (value) {
            case String s -> s;
            case Long l -> l;
            case Integer i -> (long) i;
            case Boolean b -> b;
            case String[] array -> List.of(array);
            case List<?> list -> list.stream().map(String::valueOf).toList();
            case Path p -> p.toString();
            case Object[] array -> Arrays.stream(array).map(String::valueOf).toList();
            default -> String.valueOf(value);
        };
    }
}
