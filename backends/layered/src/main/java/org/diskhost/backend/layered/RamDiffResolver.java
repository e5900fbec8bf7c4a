package org.diskhost.backend.layered;

import java.util.List;

import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code ramdiff}: a RAM layer over the disk in setting {@code disk}, which is opened read-only and never
 * written; writes land in memory and reads merge (reference: {@code memdiff:X}). Size and sector size are the disk's.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + RamDiffResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class RamDiffResolver extends StackResolver {
    public static final String KIND = "ramdiff";

    public RamDiffResolver() {
        super(KIND);
    }

    @Override
    List<StackBuilder.Planned> plan(Settings settings, ResolveContext context) {
        settings.allowOnly(DISK);
        return List.of(ram(KIND, settings.without(DISK), context), lowerDisk(settings, context));
    }
}
