package org.diskhost.api.resolve;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.diskhost.api.Disk;
import org.diskhost.api.handover.Handover;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.handover.StateExporter;
import org.diskhost.api.layer.UnattachedLayer;

/**
 * A disk resolved from its spec, with everything nested in it: the context its resolvers see, the kinds and the
 * resolvers the chain used, and ownership of every disk it built. Closing it closes them all, top first. Used by
 * {@link StandaloneResolution} and by the host.
 *
 * <p>Each element of the chain has a <em>place</em>: its kind, under its parent's place with its position among the
 * parent's nested disks and layers, as {@code crypt/0:delay/0:layered/1:ram}. A rebuilt chain hands each element
 * the state its predecessor in the same place exported ({@link #handOver()}, {@link org.diskhost.api.handover}).
 */
public final class ResolvedChain implements AutoCloseable {
    private final String diskName;
    private final Function<String, DiskResolver> lookup;
    private final Function<String, LayerResolver> layerLookup;
    private final List<Disk> owned = new ArrayList<>();
    private final Set<String> kinds = new LinkedHashSet<>();
    /** Every disk and layer resolver the chain used, by identity. */
    private final Map<Object, Boolean> resolvers = new IdentityHashMap<>();
    /** The elements in the order they were resolved. Guarded by this. */
    private final List<Element> elements = new ArrayList<>();
    /** Exporters by place. Guarded by this. */
    private final Map<String, StateExporter> exporters = new LinkedHashMap<>();
    private final Handover handedOver;
    private Disk top;

    /**
     * One element of a resolved chain.
     *
     * @param place where it is in the chain, as {@code crypt/0:delay}
     * @param kind its disk or layer kind
     * @param layer whether a {@link LayerResolver} built it
     * @param resolver the resolver service that built it
     * @since 1.2
     */
    public record Element(String place, String kind, boolean layer, Object resolver) {
    }

    private ResolvedChain(String diskName, Function<String, DiskResolver> lookup,
            Function<String, LayerResolver> layerLookup, Handover handedOver) {
        this.diskName = diskName;
        this.lookup = lookup;
        this.layerLookup = layerLookup;
        this.handedOver = handedOver;
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
        return resolve(diskName, spec, readOnly, lookup, layerLookup, Handover.NONE);
    }

    /**
     * Resolves {@code spec} as a successor of a chain that handed over {@code handedOver}: each element finds the
     * state of its predecessor in the same place through {@link ResolveContext#handedOver()}.
     *
     * @since 1.2
     */
    public static CompletableFuture<ResolvedChain> resolve(String diskName, DiskSpec spec, boolean readOnly,
            Function<String, DiskResolver> lookup, Function<String, LayerResolver> layerLookup,
            Handover handedOver) {
        ResolvedChain chain = new ResolvedChain(diskName, lookup, layerLookup, handedOver);
        return chain.resolveNested(null, spec, readOnly).handle((disk, failure) -> {
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

    /**
     * The elements of the chain, in the order they were resolved.
     *
     * @since 1.2
     */
    public synchronized List<Element> elements() {
        return List.copyOf(elements);
    }

    /**
     * Collects the state of every element that registered an exporter. Call it once the chain has drained and
     * before closing it. An exporter that fails is reported through {@code System.Logger} and left out: its
     * successor starts without that state.
     *
     * @since 1.2
     */
    public Handover handOver() {
        Map<String, StateExporter> all;
        synchronized (this) {
            all = new LinkedHashMap<>(exporters);
        }
        Map<String, HandoverState> states = new LinkedHashMap<>();
        all.forEach((place, exporter) -> {
            try {
                HandoverState state = exporter.export();
                if (state != null) {
                    states.put(place, state);
                }
            } catch (RuntimeException e) {
                System.getLogger(ResolvedChain.class.getName()).log(System.Logger.Level.WARNING,
                        "disk '" + diskName + "': " + place + " could not hand its state over", e);
            }
        });
        return new Handover(states);
    }

    private CompletableFuture<Disk> resolveNested(Context parent, DiskSpec spec, boolean readOnly) {
        DiskResolver resolver = lookup.apply(spec.kind());
        Context context = new Context(placeOf(parent, spec.kind()), readOnly);
        return resolveWith(resolver, context, false, spec.kind(), r -> r.resolve(spec, context))
                .thenApply(disk -> {
                    synchronized (this) {
                        owned.add(disk);
                    }
                    return disk;
                });
    }

    /** A layer's context has exactly the layer's flag: a read cache is writable even on a read-only disk. */
    private CompletableFuture<UnattachedLayer> resolveLayer(Context parent, DiskSpec spec, boolean readOnly) {
        LayerResolver resolver = layerLookup.apply(spec.kind());
        Context context = new Context(placeOf(parent, spec.kind()), readOnly);
        return resolveWith(resolver, context, true, spec.kind(), r -> r.resolve(spec, context));
    }

    private static String placeOf(Context parent, String kind) {
        return parent == null ? kind : parent.place + "/" + parent.children.getAndIncrement() + ":" + kind;
    }

    /** Records {@code resolver} as used and runs {@code call} on it; a missing resolver is a NoResolver error. */
    private <R, T> CompletableFuture<T> resolveWith(R resolver, Context context, boolean layer, String kind,
            Function<R, CompletableFuture<T>> call) {
        if (resolver == null) {
            return CompletableFuture.failedFuture(new ResolveException(new ResolveError.NoResolver(diskName, kind)));
        }
        synchronized (this) {
            kinds.add(kind);
            resolvers.put(resolver, Boolean.TRUE);
            elements.add(new Element(context.place, kind, layer, resolver));
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

    /** What one resolver sees: the chain, its own place and read-only flag, and its predecessor's state. */
    private final class Context implements ResolveContext {
        private final String place;
        private final boolean readOnly;
        /** Numbers this element's nested disks and layers, in the order it asks for them. */
        private final AtomicInteger children = new AtomicInteger();

        Context(String place, boolean readOnly) {
            this.place = place;
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
            return resolveNested(this, nested, readOnly || this.readOnly);
        }

        @Override
        public CompletableFuture<UnattachedLayer> resolveLayer(DiskSpec layer, boolean readOnly) {
            return ResolvedChain.this.resolveLayer(this, layer, readOnly);
        }

        @Override
        public Optional<HandoverState> handedOver() {
            return handedOver.at(place);
        }

        @Override
        public void handOverWith(StateExporter exporter) {
            synchronized (ResolvedChain.this) {
                exporters.put(place, java.util.Objects.requireNonNull(exporter, "exporter"));
            }
        }
    }
}
