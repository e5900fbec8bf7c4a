package org.diskhost.backend.layered;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/** The layers of the shorthand kinds (reference section 5.5), shared by their resolvers. */
final class Shorthands {
    static final String DISK = "disk";

    private Shorthands() {
    }

    /** Builds the stack; a {@link ResolveException} thrown while planning fails the future. */
    static CompletableFuture<Disk> build(Settings settings, boolean readOnly, PlanSupplier plan) {
        try {
            return StackBuilder.build(settings, readOnly, plan.get());
        } catch (ResolveException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @FunctionalInterface
    interface PlanSupplier {
        List<StackBuilder.Planned> get();
    }

    /** The disk in setting {@code disk}, below everything: opened read-only (writes never reach it). */
    static StackBuilder.Planned lowerDisk(Settings settings, ResolveContext context) {
        DiskSpec disk = settings.disk(DISK);
        return new StackBuilder.Planned(DISK, readOnly -> DiskLayerResolver.layerOf(context.resolve(disk, readOnly)),
                false, false);
    }

    /** A layer of layer kind {@code kind} configured by {@code settings} without {@code disk}. */
    static StackBuilder.Planned layer(String kind, String setting, Settings settings, ResolveContext context,
            boolean readCache) {
        DiskSpec layer = new DiskSpec(kind, settings.without(DISK));
        return new StackBuilder.Planned(setting, readOnly -> context.resolveLayer(layer, readOnly), readCache, false);
    }
}
