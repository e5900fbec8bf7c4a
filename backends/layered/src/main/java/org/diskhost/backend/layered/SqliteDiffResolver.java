package org.diskhost.backend.layered;

import java.util.List;

import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code sqlitediff}: a layer of layer kind {@code sqlite}, configured by the settings other than
 * {@code disk} ({@code path}, ...), over the disk in setting {@code disk}, which is opened read-only and never
 * written: a diff that persists (reference: {@code sqldiff}). Needs the SQLite layer bundle.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + SqliteDiffResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class SqliteDiffResolver extends StackResolver {
    public static final String KIND = "sqlitediff";

    public SqliteDiffResolver() {
        super(KIND);
    }

    @Override
    List<StackBuilder.Planned> plan(Settings settings, ResolveContext context) {
        return List.of(layer("sqlite", "path", settings, context, false), lowerDisk(settings, context));
    }
}
