package org.diskhost.api.layer;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A layer as its {@link org.diskhost.api.resolve.LayerResolver} built it, not yet part of a stack. A layered disk
 * attaches its layers one at a time from the bottom up, giving each the metadata of the attached layer below it, so
 * a layer whose size or sector size is not configured takes them from below. Each unattached layer is either
 * attached once or {@linkplain #close() closed}; an attach that fails releases what the layer held.
 */
@ConsumerType
public interface UnattachedLayer {

    /**
     * Completes the layer: opens or formats its store as needed and returns the attached layer, which the caller
     * owns (it closes it with {@link LayerIo#close()}).
     *
     * @param below the layer directly below, or empty for the bottom layer
     * @return the layer; fails when the layer cannot work over {@code below} (no size to inherit, a store that cannot
     *         be opened), preferably with a {@link org.diskhost.api.resolve.ResolveException} naming the setting
     */
    CompletableFuture<LayerIo> attach(Optional<LowerLayer> below);

    /** Releases what the layer holds when it is never attached. By default nothing. */
    default void close() {
    }

    /** A layer that needs nothing from below: attaching returns {@code layer}. */
    static UnattachedLayer of(LayerIo layer) {
        return new UnattachedLayer() {
            @Override
            public CompletableFuture<LayerIo> attach(Optional<LowerLayer> below) {
                return CompletableFuture.completedFuture(layer);
            }

            @Override
            public void close() {
                layer.close();
            }
        };
    }
}
