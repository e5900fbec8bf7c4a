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
 * Resolves kind {@code ramdiff}, a layered-disk shorthand. A RAM diff over the disk in setting {@code disk}, which is
 * opened read-only and never written: writes land in memory, reads merge (reference: {@code memdiff:X}). The size and
 * sector size are the disk's.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + RamDiffResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class RamDiffResolver implements DiskResolver {
    public static final String KIND = "ramdiff";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        return Shorthands.build(settings, context.readOnly(), () -> {
            settings.allowOnly(Shorthands.DISK);
            return List.of(new StackBuilder.Planned(KIND, readOnly -> CompletableFuture.completedFuture(
                    RamLayerResolver.unattached(settings.without(Shorthands.DISK), context.diskName())), false, false),
                    Shorthands.lowerDisk(settings, context));
        });
    }
}
