package org.diskhost.backend.layered;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves layer kind {@code ram}: a {@link RamLayer}. Settings: {@code size} (a size; by default the layer below's)
 * and {@code sectorSize} (by default the layer below's, else 512). A runtime size set for the disk (see
 * {@link RamResizeComponent}) replaces {@code size}.
 */
@Component(service = LayerResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + RamLayerResolver.KIND)
@ServiceProvider(value = LayerResolver.class, resolution = Resolution.OPTIONAL)
public final class RamLayerResolver implements LayerResolver {
    public static final String KIND = "ram";
    static final String SIZE = "size";
    static final String SECTOR_SIZE = "sectorSize";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
        spec.settings().allowOnly(SIZE, SECTOR_SIZE);
        return CompletableFuture.completedFuture(unattached(spec.settings(), context));
    }

    /**
     * A RAM layer from {@code size} and {@code sectorSize} in {@code settings}, for the disk and place of
     * {@code context}: it takes over the contents its predecessor in that place handed over, and hands its own over
     * when the chain is rebuilt.
     */
    static UnattachedLayer unattached(Settings settings, ResolveContext context) {
        String diskName = context.diskName();
        OptionalLong size = settings.optionalSize(SIZE);
        OptionalInt sectorSize = sectorSize(settings);
        return new UnattachedLayer() {
            @Override
            public CompletableFuture<LayerIo> attach(Optional<LowerLayer> below) {
                LiveRamLayers live = LiveRamLayers.INSTANCE;
                OptionalLong runtime = live.sizeFor(diskName);
                RamGeometry geometry;
                try {
                    geometry = RamGeometry.of(runtime.isPresent() ? runtime : size, sectorSize, below);
                } catch (RamGeometry.InvalidException e) {
                    String setting = e.problem() instanceof RamGeometry.Problem.InvalidSectorSize ? SECTOR_SIZE : SIZE;
                    return CompletableFuture.failedFuture(settings.invalid(setting, e.getMessage()
                            + (runtime.isPresent() ? " (the runtime size set for the disk)" : "")));
                }
                RamLayer[] layer = new RamLayer[1];
                Runnable onClose = () -> live.unregister(diskName, layer[0]);
                Optional<HandoverState> handedOver = context.handedOver();
                try {
                    layer[0] = handedOver.isPresent() ? RamLayer.restore(geometry, handedOver.get(), onClose)
                            : new RamLayer(geometry, onClose);
                } catch (IllegalArgumentException e) {
                    return CompletableFuture.failedFuture(new ResolveException(new ResolveError.ResolverError(
                            diskName, KIND, "cannot take over the RAM layer's contents: " + e.getMessage())));
                }
                live.register(diskName, layer[0]);
                context.handOverWith(layer[0]::export);
                return CompletableFuture.completedFuture(layer[0]);
            }
        };
    }

    private static OptionalInt sectorSize(Settings settings) {
        OptionalLong value = settings.optionalInteger(SECTOR_SIZE);
        if (value.isEmpty()) {
            return OptionalInt.empty();
        }
        long ss = value.getAsLong();
        if (ss < 512 || ss > 1 << 30 || Long.bitCount(ss) != 1) {
            throw settings.invalid(SECTOR_SIZE, "must be a power of two from 512 to 1 GiB, got " + ss);
        }
        return OptionalInt.of((int) ss);
    }
}
