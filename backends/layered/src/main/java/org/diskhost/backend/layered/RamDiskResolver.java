package org.diskhost.backend.layered;

import java.util.List;

import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code ram}: a RAM disk of {@code size} bytes of {@code sectorSize}-byte sectors (default 512), one
 * RAM layer (reference: {@code mem:N}).
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + RamDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class RamDiskResolver extends StackResolver {
    public static final String KIND = "ram";

    public RamDiskResolver() {
        super(KIND);
    }

    @Override
    List<StackBuilder.Planned> plan(Settings settings, ResolveContext context) {
        settings.allowOnly(RamLayerResolver.SIZE, RamLayerResolver.SECTOR_SIZE);
        settings.size(RamLayerResolver.SIZE); // required here: there is no layer below to take it from
        return List.of(ram(RamLayerResolver.SIZE, settings, context));
    }
}
