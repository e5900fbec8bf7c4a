package org.diskhost.backend.layered;

import java.util.Map;

import org.diskhost.api.change.RuntimeChange;

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
    static final String NAME = RuntimeChange.NAME;
    static final String SIZE = "size";

    /**
     * Reads a resize from configuration properties (see {@link RuntimeChange#parse}): {@value #NAME} (or the name in
     * a PID such as {@code org.diskhost.ram~demo}) and {@code size}, a size ({@code 134217728}, {@code "128 MiB"}).
     * Other properties, except the framework's own, are errors.
     *
     * @throws IllegalArgumentException naming the property at fault
     */
    static RamResize parse(String pid, Map<String, ?> properties) {
        RuntimeChange change = RuntimeChange.parse(pid, properties, RamLayerResolver.KIND, SIZE);
        return new RamResize(change.source(), change.diskName(), change.read(settings -> {
            long bytes = settings.size(SIZE);
            if (bytes == 0) {
                throw settings.invalid(SIZE, "must not be 0");
            }
            return bytes;
        }));
    }
}
