package org.diskhost.api.resolve;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceConsumer;

/**
 * Builds disks outside OSGi: resolvers come from {@link ServiceLoader} (on the module path or the class path) or
 * are given directly. Each {@link #resolve} returns a {@link ResolvedChain} that owns every disk it built.
 */
// Inside OSGi the host finds resolvers as services: no ServiceLoader mediator is needed, and the requirement must
// not be wired at resolve time, or every backend bundle would become a dependency of the API (refreshing a backend
// would then refresh the API and everything that uses it).
@ServiceConsumer(value = DiskResolver.class, resolution = Resolution.OPTIONAL, effective = "active")
@ServiceConsumer(value = LayerResolver.class, resolution = Resolution.OPTIONAL, effective = "active")
public final class StandaloneResolution {
    private final Map<String, DiskResolver> resolvers = new HashMap<>();
    private final Map<String, LayerResolver> layerResolvers = new HashMap<>();
    private final Path baseDirectory;

    private StandaloneResolution(Iterable<? extends DiskResolver> resolvers,
            Iterable<? extends LayerResolver> layerResolvers, Path baseDirectory) {
        for (DiskResolver r : resolvers) {
            this.resolvers.putIfAbsent(r.kind(), r);
        }
        for (LayerResolver r : layerResolvers) {
            this.layerResolvers.putIfAbsent(r.kind(), r);
        }
        this.baseDirectory = baseDirectory;
    }

    /**
     * Disk and layer resolvers found by {@link ServiceLoader}; relative paths resolve against the working directory.
     */
    public static StandaloneResolution fromServiceLoader() {
        return new StandaloneResolution(ServiceLoader.load(DiskResolver.class), ServiceLoader.load(LayerResolver.class),
                Path.of("").toAbsolutePath());
    }

    /** The given resolvers; relative paths resolve against {@code baseDirectory}. */
    public static StandaloneResolution of(Path baseDirectory, DiskResolver... resolvers) {
        return new StandaloneResolution(List.of(resolvers), List.of(), baseDirectory);
    }

    /**
     * The given disk and layer resolvers; relative paths resolve against {@code baseDirectory}.
     *
     * @since 1.1
     */
    public static StandaloneResolution of(Path baseDirectory, List<? extends DiskResolver> resolvers,
            List<? extends LayerResolver> layerResolvers) {
        return new StandaloneResolution(resolvers, layerResolvers, baseDirectory);
    }

    /** The kinds that can be resolved. */
    public Set<String> kinds() {
        return Collections.unmodifiableSet(resolvers.keySet());
    }

    /**
     * The layer kinds that can be resolved.
     *
     * @since 1.1
     */
    public Set<String> layerKinds() {
        return Collections.unmodifiableSet(layerResolvers.keySet());
    }

    /** Resolves a disk from a configuration object (see {@link DiskSpec#parse}). */
    public CompletableFuture<ResolvedChain> resolve(String diskName, Map<String, ?> config, boolean readOnly) {
        try {
            return resolve(diskName, DiskSpec.parse(diskName, config, baseDirectory), readOnly);
        } catch (ResolveException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Resolves {@code spec} and everything nested in it. */
    public CompletableFuture<ResolvedChain> resolve(String diskName, DiskSpec spec, boolean readOnly) {
        return ResolvedChain.resolve(diskName, spec, readOnly, resolvers::get, layerResolvers::get);
    }
}
