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
 * Resolves kind {@code autocache}, a layered-disk shorthand. A read-only disk with a persistent read cache in front of
 * the disk in setting {@code disk}: layer kind {@code sqlite-autocache}, configured by the other settings ({@code
 * cachePath}, {@code cacheKey}), keyed by the disk's identity (reference: {@code autocache}). Needs the SQLite layer
 * bundle.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + AutoCacheResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class AutoCacheResolver implements DiskResolver {
    public static final String KIND = "autocache";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        // Read-only: the cache layer is logically read-only, and writes would have to pass it.
        return Shorthands.build(settings, true, () -> List.of(
                Shorthands.layer("sqlite-autocache", "cachePath", settings, context, true),
                Shorthands.lowerDisk(settings, context)));
    }
}
