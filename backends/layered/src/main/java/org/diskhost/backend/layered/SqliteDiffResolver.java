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
 * Resolves kind {@code sqlitediff}, a layered-disk shorthand. A SQLite diff over the disk in setting {@code disk},
 * opened read-only and never written: writes land in the layer kind {@code sqlite} configured by the other settings
 * ({@code path}, ...), which persists them (reference: {@code sqldiff}). Needs the SQLite layer bundle.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + SqliteDiffResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class SqliteDiffResolver implements DiskResolver {
    public static final String KIND = "sqlitediff";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        return Shorthands.build(settings, context.readOnly(), () -> List.of(
                Shorthands.layer("sqlite", "path", settings, context, false),
                Shorthands.lowerDisk(settings, context)));
    }
}
