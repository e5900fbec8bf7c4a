package org.diskhost.backend.layered;

import java.util.List;

import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code autocache}: a read-only disk with a persistent read cache (layer kind
 * {@code sqlite-autocache}, configured by {@code cachePath} and {@code cacheKey}) in front of the disk in setting
 * {@code disk} (reference: {@code autocache}). Needs the SQLite layer bundle.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + AutoCacheResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class AutoCacheResolver extends StackResolver {
    public static final String KIND = "autocache";

    public AutoCacheResolver() {
        super(KIND);
    }

    @Override
    List<StackBuilder.Planned> plan(Settings settings, ResolveContext context) {
        return List.of(layer("sqlite-autocache", "cachePath", settings, context, true), lowerDisk(settings, context));
    }

    /** Always read-only: the cache is logically read-only, and writes would have to pass it. */
    @Override
    boolean readOnly(Settings settings, ResolveContext context) {
        return true;
    }
}
