package org.diskhost.backend.layered;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves layer kind {@code disk}: the disk in setting {@code disk}, opened with the layer's read-only flag, as a
 * layer that holds every sector ({@link DiskLayer}).
 */
@Component(service = LayerResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + DiskLayerResolver.KIND)
@ServiceProvider(value = LayerResolver.class, resolution = Resolution.OPTIONAL)
public final class DiskLayerResolver implements LayerResolver {
    public static final String KIND = "disk";
    static final String DISK = "disk";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
        spec.settings().allowOnly(DISK);
        return layerOf(context.resolve(spec.settings().disk(DISK)));
    }

    /** A disk, once resolved, as a layer. The chain that resolved the disk closes it. */
    static CompletableFuture<UnattachedLayer> layerOf(CompletableFuture<Disk> disk) {
        return disk.thenApply(d -> (UnattachedLayer) below -> CompletableFuture.<LayerIo>completedFuture(
                new DiskLayer(d, below.isEmpty())));
    }
}
