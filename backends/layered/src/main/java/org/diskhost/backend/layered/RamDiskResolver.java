package org.diskhost.backend.layered;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code ram}, a layered-disk shorthand. A RAM disk: settings {@code size} (required) and {@code
 * sectorSize} (default 512); one RAM layer (reference: {@code mem:N}).
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + RamDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class RamDiskResolver implements DiskResolver {
    public static final String KIND = "ram";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        return Shorthands.build(settings, context.readOnly(), () -> {
            settings.allowOnly(RamLayerResolver.SIZE, RamLayerResolver.SECTOR_SIZE);
            settings.size(RamLayerResolver.SIZE); // required here: there is no layer below to take it from
            return List.of(new StackBuilder.Planned(RamLayerResolver.SIZE, readOnly -> CompletableFuture
                    .completedFuture(RamLayerResolver.unattached(settings, context.diskName())), false, false));
        });
    }
}
