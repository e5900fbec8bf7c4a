package org.diskhost.api.resolve;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import org.diskhost.api.Disk;
import org.diskhost.api.layer.UnattachedLayer;

/**
 * A disk resolved from its spec, with everything nested in it: the context its resolvers see, the kinds and the
 * resolvers the chain used, and ownership of every disk it built. Closing it closes them all, top first. Used by
 * {@link StandaloneResolution} and by the host.
 */
public final class ResolvedChain implements AutoCloseable {
    private final String diskName;
    private final Function<String, DiskResolver> lookup;
    private final Function<String, LayerResolver> layerLookup;
    private final List<Disk> owned = new ArrayList<>();
    private final Set<String> kinds = new LinkedHashSet<>();
    /** Every disk and layer resolver the chain used, by identity. */
    private final Map<Object, Boolean> resolvers = new IdentityHashMap<>();
    private Disk top;

    private ResolvedChain(String diskName, Function<String, DiskResolver> lookup,
            Function<String, LayerResolver> layerLookup) {
        this.diskName = diskName;
        this.lookup = lookup;
        this.layerLookup = layerLookup;
    }

    /**
     * Resolves {@code spec} and everything nested in it, finding each kind's resolver with {@code lookup} (which
     * returns null for an unknown kind).
     *
     * @return the chain; fails with a {@link ResolveException} after closing whatever was already built
     */
    public static CompletableFuture<ResolvedChain> resolve(String diskName, DiskSpec spec, boolean readOnly,
            Function<String, DiskResolver> lookup) {
        return resolve(diskName, spec, readOnly, lookup, kind -> null);
    }

    /**
     * Resolves {@code spec} and everything nested in it, layers included: {@code layerLookup} finds the resolver of
     * a layer kind (null for an unknown one).
     *
     * @since 1.1
     */
    public static CompletableFuture<ResolvedChain> resolve(String diskName, DiskSpec spec, boolean readOnly,
            Function<String, DiskResolver> lookup, Function<String, LayerResolver> layerLookup) {
        ResolvedChain chain = new ResolvedChain(diskName, lookup, layerLookup);
        return chain.resolveNested(spec, readOnly).handle((disk, failure) -> {
            if (failure != null) {
                chain.close();
                throw ResolveException.of(failure, diskName, spec.kind());
            }
            chain.top = disk;
            return chain;
        });
    }

    /** The resolved disk. */
    public Disk disk() {
        return top;
    }

    public String diskName() {
        return diskName;
    }

    /** The kinds in the chain, top first; layer kinds among them. */
    public synchronized Set<String> kinds() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(kinds));
    }

    /** Whether {@code resolver} (this very instance) built part of the chain. */
    public synchronized boolean uses(DiskResolver resolver) {
        return resolvers.containsKey(resolver);
    }

    /**
     * Whether {@code resolver} (this very instance) built a layer of the chain.
     *
     * @since 1.1
     */
    public synchronized boolean uses(LayerResolver resolver) {
        return resolvers.containsKey(resolver);
    }

    private CompletableFuture<Disk> resolveNested(DiskSpec spec, boolean readOnly) {
        return resolveWith(lookup.apply(spec.kind()), spec.kind(), r -> r.resolve(spec, new Context(readOnly)))
                .thenApply(disk -> {
                    synchronized (this) {
                        owned.add(disk);
                    }
                    return disk;
                });
    }

    /** A layer's context has exactly the layer's flag: a read cache is writable even on a read-only disk. */
    private CompletableFuture<UnattachedLayer> resolveLayer(DiskSpec spec, boolean readOnly) {
        return resolveWith(layerLookup.apply(spec.kind()), spec.kind(), r -> r.resolve(spec, new Context(readOnly)));
    }

    /** Records {@code resolver} as used and runs {@code call} on it; a missing resolver is a NoResolver error. */
    private <R, T> CompletableFuture<T> resolveWith(R resolver, String kind, Function<R, CompletableFuture<T>> call) {
        if (resolver == null) {
            return CompletableFuture.failedFuture(new ResolveException(new ResolveError.NoResolver(diskName, kind)));
        }
        synchronized (this) {
            kinds.add(kind);
            resolvers.put(resolver, Boolean.TRUE);
        }
        try {
            return call.apply(resolver);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Closes every disk of the chain, top first (a decorator before the disk below it). */
    @Override
    public void close() {
        List<Disk> disks;
        synchronized (this) {
            disks = new ArrayList<>(owned);
            owned.clear();
        }
        for (Disk d : disks.reversed()) {
            d.close();
        }
    }

    /** What one resolver sees: the chain, and its own read-only flag. */
    private final class Context implements ResolveContext {
        private final boolean readOnly;

        Context(boolean readOnly) {
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
            return resolveNested(nested, readOnly || this.readOnly);
        }

        @Override
        public CompletableFuture<UnattachedLayer> resolveLayer(DiskSpec layer, boolean readOnly) {
            return ResolvedChain.this.resolveLayer(layer, readOnly);
        }
    }
}
