package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The open RAM layers by configured disk name, and the runtime sizes set for disks (through Configuration Admin, see
 * {@link RamResizeComponent}). A runtime size applies at once to the disk's open RAM layers and to the RAM layers it
 * opens later (a rebuilt chain keeps the size); deleting it leaves the open layers as they are. One registry serves
 * every resolver of this bundle (they are separate components, and a disk may use any of them). Thread-safe.
 */
final class LiveRamLayers {
    /** The bundle's registry. */
    static final LiveRamLayers INSTANCE = new LiveRamLayers();

    private final Map<String, List<RamLayer>> open = new LinkedHashMap<>();
    /** Runtime sizes in bytes by disk name. */
    private final Map<String, Long> sizes = new LinkedHashMap<>();

    /** The runtime size for {@code diskName}, if one is set. */
    synchronized OptionalLong sizeFor(String diskName) {
        Long size = sizes.get(diskName);
        return size == null ? OptionalLong.empty() : OptionalLong.of(size);
    }

    synchronized void register(String diskName, RamLayer layer) {
        open.computeIfAbsent(diskName, n -> new ArrayList<>()).add(layer);
    }

    synchronized void unregister(String diskName, RamLayer layer) {
        List<RamLayer> layers = open.get(diskName);
        if (layers != null) {
            layers.removeIf(l -> l == layer);
            if (layers.isEmpty()) {
                open.remove(diskName);
            }
        }
    }

    /** The open RAM layers of {@code diskName}. */
    synchronized List<RamLayer> layers(String diskName) {
        return List.copyOf(open.getOrDefault(diskName, List.of()));
    }

    /**
     * Sets the size of {@code diskName}'s RAM layers to {@code bytes}, now and for layers opened later.
     *
     * @return how many open layers were resized
     * @throws IllegalArgumentException if {@code bytes} is not a positive multiple of an open layer's sector size
     *         (then nothing changes)
     */
    synchronized int resize(String diskName, long bytes) {
        List<RamLayer> layers = open.getOrDefault(diskName, List.of());
        for (RamLayer layer : layers) {
            if (bytes <= 0 || bytes % layer.sectorSize() != 0) {
                throw new IllegalArgumentException("size must be a positive multiple of the sector size "
                        + layer.sectorSize() + ", got " + bytes);
            }
        }
        for (RamLayer layer : layers) {
            layer.resize(bytes / layer.sectorSize());
        }
        sizes.put(diskName, bytes);
        return layers.size();
    }

    /** Forgets the runtime size of {@code diskName}; its open layers keep their size. */
    synchronized void forget(String diskName) {
        sizes.remove(diskName);
    }
}
