package org.diskhost.backend.layered;

import static org.diskhost.testkit.DiskAssertions.succeeds;

import java.util.Arrays;
import java.util.List;

import org.diskhost.api.Disk;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.testkit.MemoryDisk;

/** Builders of layered disks for tests. */
final class Stacks {
    private Stacks() {
    }

    static LayerDescription plain(LayerIo layer) {
        return LayerDescription.plain(UnattachedLayer.of(layer));
    }

    static LayerDescription cache(LayerIo layer) {
        return new LayerDescription(UnattachedLayer.of(layer), true, false);
    }

    static LayerDescription writeThrough(LayerIo layer) {
        return new LayerDescription(UnattachedLayer.of(layer), false, true);
    }

    static LayeredDisk layered(boolean readOnly, LayerDescription... layers) {
        return succeeds(LayeredDisk.create(readOnly, Arrays.asList(layers)));
    }

    static Disk disk(boolean readOnly, LayerDescription... layers) {
        return Disk.of(layered(readOnly, layers));
    }

    static RamLayer ram(int sectorSize, long sectors) {
        return new RamLayer(RamGeometry.of(sectors * sectorSize, sectorSize));
    }

    /** A memory disk as a layer. */
    static DiskLayer memory(int sectorSize, long sectors, boolean readOnly) {
        return new DiskLayer(Disk.of(MemoryDisk.builder(sectorSize, sectors).readOnly(readOnly).build()));
    }

    static List<LayerDescription> list(LayerDescription... layers) {
        return List.of(layers);
    }
}
