package org.diskhost.backend.layered;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import org.diskhost.api.Disk;
import org.diskhost.api.InvalidDiskException;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * Resolves the layers of a stack and builds the layered disk (reference section 5.4): every layer is resolved at
 * once; the layers get read-only flags from the top down, starting from the disk's flag, a read cache is always
 * writable, and every layer below one that is not write-through is read-only (writes never reach it); then the
 * layers are attached from the bottom up and the stack is checked. Errors name the setting of the layer at fault.
 */
final class StackBuilder {
    /**
     * A layer to resolve.
     *
     * @param setting the setting that configures it, for errors (such as {@code layers[1]} or {@code disk})
     * @param resolve resolves the layer with the read-only flag it is given
     */
    record Planned(String setting, Function<Boolean, CompletableFuture<UnattachedLayer>> resolve, boolean readCache,
            boolean writeThrough) {
    }

    private StackBuilder() {
    }

    /**
     * Builds a layered disk of {@code planned} (top first).
     *
     * @param settings the settings of the disk being resolved, for errors
     * @return the disk; fails with a {@link ResolveException}, after closing whatever was built
     */
    static CompletableFuture<Disk> build(Settings settings, boolean readOnly, List<Planned> planned) {
        List<CompletableFuture<UnattachedLayer>> layers = new ArrayList<>(planned.size());
        boolean running = readOnly;
        for (Planned p : planned) {
            boolean layerReadOnly = running && !p.readCache();
            CompletableFuture<UnattachedLayer> layer;
            try {
                layer = p.resolve().apply(layerReadOnly);
            } catch (RuntimeException e) {
                layer = CompletableFuture.failedFuture(e);
            }
            layers.add(layer);
            running |= !p.writeThrough();
        }
        return CompletableFuture.allOf(layers.toArray(CompletableFuture<?>[]::new))
                .handle((v, failure) -> {
                    if (failure != null) {
                        layers.stream().filter(f -> !f.isCompletedExceptionally()).forEach(f -> f.join().close());
                        throw ResolveException.of(failure, settings.diskName(), settings.kind());
                    }
                    List<LayerDescription> descriptions = new ArrayList<>(planned.size());
                    for (int i = 0; i < planned.size(); i++) {
                        descriptions.add(new LayerDescription(layers.get(i).join(), planned.get(i).readCache(),
                                planned.get(i).writeThrough()));
                    }
                    return descriptions;
                })
                .thenCompose(descriptions -> LayeredDisk.create(readOnly, descriptions))
                .handle((layered, failure) -> {
                    if (failure != null) {
                        throw toResolveException(settings, planned, LayeredDisk.unwrap(failure));
                    }
                    try {
                        return Disk.of(layered);
                    } catch (InvalidDiskException e) {
                        layered.close();
                        throw settings.failure(e.getMessage(), e);
                    }
                });
    }

    private static ResolveException toResolveException(Settings settings, List<Planned> planned, Throwable failure) {
        if (!(failure instanceof LayeredException refused)) {
            return ResolveException.of(failure, settings.diskName(), settings.kind());
        }
        return switch (refused.error()) {
            case LayeredError.NoLayers e -> settings.failure(e.message(), null);
            case LayeredError.AttachFailed e -> e.cause() instanceof ResolveException r ? r
                    : settings.invalid(planned.get(e.layer()).setting(), "cannot be attached: " + describe(e.cause()));
            case LayeredError.ReadCacheNotSupported e -> settings.invalid(planned.get(e.layer()).setting(),
                    e.message());
            case LayeredError.InvalidSectorSize e -> settings.invalid(planned.get(e.layer()).setting(), e.message());
            case LayeredError.MismatchedSectorSize e -> settings.invalid(planned.get(e.layer()).setting(),
                    e.message());
            case LayeredError.ReadOnly e -> settings.invalid(planned.get(e.layer()).setting(), e.message());
            case LayeredError.UselessWriteThrough e -> settings.invalid(planned.get(e.layer()).setting(),
                    e.message());
        };
    }

    private static String describe(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
