package org.diskhost.api.change;

import java.util.Collections;
import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * One runtime change of a disk's settings, as read from a factory configuration: the settings it gives, for one
 * configured disk. What the settings mean, and how they combine with the disk's spec, is the backend's business.
 *
 * @param source the configuration's PID
 * @param diskName the configured disk it changes
 * @param settings the settings it gives, for that disk and the backend's kind (so that their errors name both);
 *        only names the backend knows
 */
public record RuntimeChange(String source, String diskName, Settings settings) implements DiskChange {
    /** Configuration property: the disk's name (by default the name of a named factory configuration). */
    public static final String NAME = "diskhost.name";

    public RuntimeChange {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(diskName, "diskName");
        Objects.requireNonNull(settings, "settings");
    }

    /**
     * Reads a change from a configuration's properties. The disk's name is {@value #NAME}, or else the name of a
     * named factory configuration (what follows {@code ~} in its PID, as {@code demo} in
     * {@code org.diskhost.delay~demo}). The framework's own properties ({@code service.*}, {@code felix.*},
     * {@code component.*}) and diskhost's ({@code diskhost.*}) are left out; every other property is a setting, and
     * one not in {@code known} is an error, so that a misspelt setting is not ignored. The values are not checked:
     * read them with {@link #read}.
     *
     * @param kind the backend's kind, as errors show it
     * @param known the settings a change may give
     * @throws IllegalArgumentException naming the property at fault (with the disk and the kind for a setting)
     */
    public static RuntimeChange parse(String pid, Map<String, ?> properties, String kind, String... known) {
        Object name = properties.get(NAME);
        if (name == null) {
            int tilde = pid.indexOf('~');
            if (tilde < 0) {
                throw new IllegalArgumentException(NAME + ": missing; name the disk that configuration " + pid
                        + " changes (kind '" + kind + "')");
            }
            name = pid.substring(tilde + 1);
        }
        String diskName = name.toString();
        Map<String, Object> values = new LinkedHashMap<>();
        properties.forEach((key, value) -> {
            if (!key.startsWith("service.") && !key.startsWith("felix.") && !key.startsWith("component.")
                    && !key.startsWith("diskhost.")) {
                values.put(key, value);
            }
        });
        RuntimeChange change = new RuntimeChange(pid, diskName, Settings.of(diskName, kind, values, null));
        change.read(settings -> {
            settings.allowOnly(known);
            return null;
        });
        return change;
    }

    /**
     * A configuration's properties as Configuration Admin gives them (to {@code ManagedServiceFactory.updated}), as
     * a map for {@link #parse}.
     */
    public static Map<String, Object> properties(Dictionary<String, ?> properties) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key : Collections.list(properties.keys())) {
            map.put(key, properties.get(key));
        }
        return map;
    }

    /**
     * Reads the change's settings with {@code reader}; the {@link ResolveException} it throws for a setting (such
     * as {@link Settings#invalid}) becomes an {@link IllegalArgumentException} with the same message.
     */
    public <T> T read(Function<? super Settings, ? extends T> reader) {
        try {
            return reader.apply(settings);
        } catch (ResolveException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
