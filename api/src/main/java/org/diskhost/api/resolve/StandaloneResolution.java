package org.diskhost.api.resolve;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceConsumer;

/**
 * Builds disks outside OSGi: resolvers come from {@link ServiceLoader} (on the module path or the class path) or
 * are given directly. Each {@link #resolve} returns a {@link Chain} that owns every disk it built.
 */
// Optional: inside OSGi the host finds resolvers as services, so no ServiceLoader mediator (SPI Fly) is required.
@ServiceConsumer(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class StandaloneResolution {
    private final Map<String, DiskResolver> resolvers = new HashMap<>();
    private final Path baseDirectory;

    private StandaloneResolution(Iterable<? extends DiskResolver> resolvers, Path baseDirectory) {
        for (DiskResolver r : resolvers) {
            this.resolvers.putIfAbsent(r.kind(), r);
        }
        this.baseDirectory = baseDirectory;
    }

    /** Resolvers found by {@link ServiceLoader}; relative paths resolve against the working directory. */
    public static StandaloneResolution fromServiceLoader() {
        return new StandaloneResolution(ServiceLoader.load(DiskResolver.class), Path.of("").toAbsolutePath());
    }

    /** The given resolvers; relative paths resolve against {@code baseDirectory}. */
    public static StandaloneResolution of(Path baseDirectory, DiskResolver... resolvers) {
        return new StandaloneResolution(List.of(resolvers), baseDirectory);
    }

    /** The kinds that can be resolved. */
    public java.util.Set<String> kinds() {
        return java.util.Collections.unmodifiableSet(resolvers.keySet());
    }

    /** Resolves a disk from a configuration object (see {@link DiskSpec#parse}). */
    public CompletableFuture<Chain> resolve(String diskName, Map<String, ?> config, boolean readOnly) {
        try {
            return resolve(diskName, DiskSpec.parse(diskName, config, baseDirectory), readOnly);
        } catch (ResolveException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Resolves {@code spec} and everything nested in it. */
    public CompletableFuture<Chain> resolve(String diskName, DiskSpec spec, boolean readOnly) {
        Chain chain = new Chain(diskName, readOnly);
        return chain.resolve(spec, readOnly).handle((disk, failure) -> {
            if (failure != null) {
                chain.close();
                throw ResolveException.of(failure, diskName, spec.kind());
            }
            chain.top = disk;
            return chain;
        });
    }

    /** A resolved disk and every disk nested in it; closing it closes them all, top first. */
    public final class Chain implements ResolveContext, AutoCloseable {
        private final String diskName;
        private final boolean readOnly;
        private final List<Disk> owned = new ArrayList<>();
        private Disk top;

        private Chain(String diskName, boolean readOnly) {
            this.diskName = diskName;
            this.readOnly = readOnly;
        }

        /** The resolved disk. */
        public Disk disk() {
            return top;
        }

        @Override
        public String diskName() {
            return diskName;
        }

        @Override
        public boolean readOnly() {
            return readOnly;
        }

        @Override
        public CompletableFuture<Disk> resolve(DiskSpec nested, boolean readOnly) {
            DiskResolver resolver = resolvers.get(nested.kind());
            if (resolver == null) {
                return CompletableFuture.failedFuture(
                        new ResolveException(new ResolveError.NoResolver(diskName, nested.kind())));
            }
            CompletableFuture<Disk> result;
            try {
                result = resolver.resolve(nested, new Nested(readOnly || this.readOnly));
            } catch (RuntimeException e) {
                result = CompletableFuture.failedFuture(e);
            }
            return result.thenApply(disk -> {
                synchronized (owned) {
                    owned.add(disk);
                }
                return disk;
            });
        }

        @Override
        public void close() {
            List<Disk> disks;
            synchronized (owned) {
                disks = new ArrayList<>(owned);
                owned.clear();
            }
            for (Disk d : disks.reversed()) {
                d.close();
            }
        }

        /** The context a resolver sees: same chain, its own read-only flag. */
        private final class Nested implements ResolveContext {
            private final boolean readOnly;

            Nested(boolean readOnly) {
                this.readOnly = readOnly;
            }

            @Override
            public String diskName() {
                return diskName;
            }

            @Override
            public boolean readOnly() {
                return readOnly;
            }

            @Override
            public CompletableFuture<Disk> resolve(DiskSpec nested, boolean readOnly) {
                return Chain.this.resolve(nested, readOnly || this.readOnly);
            }
        }
    }
}
