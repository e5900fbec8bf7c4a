package org.diskhost.backend.layered;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * A disk kind that resolves to a stack of layers: {@code layered}, and the shorthands that stand for a fixed stack
 * (reference section 5.5). A subclass says which layers its settings give.
 */
abstract class StackResolver implements DiskResolver {
    static final String DISK = "disk";

    private final String kind;

    StackResolver(String kind) {
        this.kind = kind;
    }

    @Override
    public final String kind() {
        return kind;
    }

    /**
     * The layers, top first.
     *
     * @throws ResolveException for a missing or bad setting
     */
    abstract List<StackBuilder.Planned> plan(Settings settings, ResolveContext context);

    /** Whether the disk is read-only: by default, as its user asked. */
    boolean readOnly(Settings settings, ResolveContext context) {
        return context.readOnly();
    }

    @Override
    public final CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        return StackBuilder.build(settings, readOnly(settings, context), plan(settings, context));
    }

    /** The disk in setting {@code disk}, at the bottom: read-only, since writes never reach it. */
    static StackBuilder.Planned lowerDisk(Settings settings, ResolveContext context) {
        DiskSpec disk = settings.disk(DISK);
        return new StackBuilder.Planned(DISK, readOnly -> DiskLayerResolver.layerOf(context.resolve(disk, readOnly)),
                false, false);
    }

    /** A layer of layer kind {@code kind}, configured by the settings other than {@code disk}. */
    static StackBuilder.Planned layer(String kind, String setting, Settings settings, ResolveContext context,
            boolean readCache) {
        DiskSpec layer = new DiskSpec(kind, settings.without(DISK));
        return new StackBuilder.Planned(setting, readOnly -> context.resolveLayer(layer, readOnly), readCache, false);
    }

    /** A RAM layer of this bundle, configured by {@code settings} ({@code size}, {@code sectorSize}). */
    static StackBuilder.Planned ram(String setting, Settings settings, ResolveContext context) {
        return new StackBuilder.Planned(setting, readOnly -> CompletableFuture.completedFuture(
                RamLayerResolver.unattached(settings, context)), false, false);
    }
}
