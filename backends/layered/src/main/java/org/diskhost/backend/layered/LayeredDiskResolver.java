package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.List;

import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code layered}: a {@link LayeredDisk} of the layers in setting {@code layers} (top first). Each
 * layer is a layer spec (a layer {@code kind} and its settings) with two optional flags of its own:
 * {@code readCache} (fill it with what reads find below) and {@code writeThrough} (writes go on to the layer below).
 * Setting {@code readOnly} makes the disk read-only even when its user did not ask for it.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + LayeredDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class LayeredDiskResolver extends StackResolver {
    public static final String KIND = "layered";
    static final String LAYERS = "layers";
    static final String READ_ONLY = "readOnly";
    static final String READ_CACHE = "readCache";
    static final String WRITE_THROUGH = "writeThrough";

    public LayeredDiskResolver() {
        super(KIND);
    }

    @Override
    boolean readOnly(Settings settings, ResolveContext context) {
        return context.readOnly() || settings.bool(READ_ONLY, false);
    }

    @Override
    List<StackBuilder.Planned> plan(Settings settings, ResolveContext context) {
        settings.allowOnly(LAYERS, READ_ONLY);
        List<DiskSpec> layers = settings.disks(LAYERS);
        List<StackBuilder.Planned> planned = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            Settings layer = layers.get(i).settings();
            DiskSpec layerSpec = new DiskSpec(layers.get(i).kind(), layer.without(READ_CACHE, WRITE_THROUGH));
            planned.add(new StackBuilder.Planned(LAYERS + "[" + i + "]",
                    layerReadOnly -> context.resolveLayer(layerSpec, layerReadOnly),
                    layer.bool(READ_CACHE, false), layer.bool(WRITE_THROUGH, false)));
        }
        return planned;
    }
}
