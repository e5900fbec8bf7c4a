package org.diskhost.backend.layered;

import java.util.LinkedHashMap;
import java.util.Map;

import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * A runtime size for the RAM layers of one configured disk, from a factory configuration of
 * {@value RamResizeComponent#FACTORY_PID}.
 *
 * @param source the configuration's PID
 * @param diskName the configured disk
 * @param bytes the new size in bytes
 */
record RamResize(String source, String diskName, long bytes) {
    /** Configuration property: the disk's name (by default the name of a named factory configuration). */
    static final String NAME = "diskhost.name";
    static final String SIZE = "size";

    /**
     * Reads a resize from configuration properties: {@value #NAME} (or the name in a PID such as
     * {@code org.diskhost.ram~demo}) and {@code size}, a size ({@code 134217728}, {@code "128 MiB"}). Other
     * properties, except the framework's own, are errors.
     *
     * @throws IllegalArgumentException naming the property at fault
     */
    static RamResize parse(String pid, Map<String, ?> properties) {
        Object name = properties.get(NAME);
        if (name == null) {
            int tilde = pid.indexOf('~');
            if (tilde < 0) {
                throw new IllegalArgumentException(NAME + ": missing; name the disk whose RAM layers resize");
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
        try {
            Settings settings = Settings.of(diskName, RamLayerResolver.KIND, values, null);
            settings.allowOnly(SIZE);
            long bytes = settings.size(SIZE);
            if (bytes == 0) {
                throw settings.invalid(SIZE, "must not be 0");
            }
            return new RamResize(pid, diskName, bytes);
        } catch (ResolveException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
