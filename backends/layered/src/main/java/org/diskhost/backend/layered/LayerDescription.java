package org.diskhost.backend.layered;

import java.util.Objects;

import org.diskhost.api.layer.UnattachedLayer;

/**
 * One layer of a stack as configured, before it is attached.
 *
 * @param layer the layer
 * @param readCache fill this layer with what reads find below it (it needs a no-overwrite write)
 * @param writeThrough writes go on to the layer below after this one
 */
record LayerDescription(UnattachedLayer layer, boolean readCache, boolean writeThrough) {
    LayerDescription {
        Objects.requireNonNull(layer, "layer");
    }

    static LayerDescription plain(UnattachedLayer layer) {
        return new LayerDescription(layer, false, false);
    }
}
