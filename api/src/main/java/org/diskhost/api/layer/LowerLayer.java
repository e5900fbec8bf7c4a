package org.diskhost.api.layer;

import java.util.Objects;
import java.util.Optional;

import org.diskhost.api.DiskId;
import org.diskhost.api.UnmapBehavior;

/**
 * What a layer learns about the layer directly below it when it is attached (see {@link UnattachedLayer#attach}),
 * so that a lazy layer can take the size and sector size from below.
 *
 * @param diskId the lower layer's identity, if it has one
 * @param sectorSize its logical sector size in bytes
 * @param sectorCount its sector count when this layer is attached
 * @param physicalSectorSize its physical sector size in bytes
 * @param unmapBehavior what its unmapped sectors read as
 * @param optimalUnmapSectors its preferred unmap granularity in sectors
 * @param readOnly whether it is logically read-only
 * @param canReadCache whether it can be a read cache (it has {@link LayerIo#writeNoOverwrite()})
 * @param fuaRespected whether its FUA writes are durable on completion
 */
public record LowerLayer(Optional<DiskId> diskId, int sectorSize, long sectorCount, int physicalSectorSize,
        UnmapBehavior unmapBehavior, int optimalUnmapSectors, boolean readOnly, boolean canReadCache,
        boolean fuaRespected) {

    public LowerLayer {
        Objects.requireNonNull(diskId, "diskId");
        Objects.requireNonNull(unmapBehavior, "unmapBehavior");
    }

    /** The metadata of an attached layer. */
    public static LowerLayer of(LayerIo layer) {
        return new LowerLayer(layer.diskId(), layer.sectorSize(), layer.sectorCount(), layer.physicalSectorSize(),
                layer.unmapBehavior(), layer.optimalUnmapSectors(), layer.isLogicallyReadOnly(),
                layer.writeNoOverwrite().isPresent(), layer.isFuaRespected());
    }

    /** The lower layer's size in bytes. */
    public long byteSize() {
        return Math.multiplyExact(sectorCount, (long) sectorSize);
    }
}
