package org.diskhost.api.resolve;

import java.util.concurrent.CompletableFuture;

import java.util.Optional;

import org.diskhost.api.Disk;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.handover.StateExporter;
import org.diskhost.api.layer.UnattachedLayer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What a resolver gets from whoever builds the chain (the host, or a {@link StandaloneResolution}). The context
 * owns every disk it resolves, nested ones included, and closes them when the chain is torn down.
 */
@ProviderType
public interface ResolveContext {

    /** The name of the configured disk being built, for messages. */
    String diskName();

    /** Whether the disk is opened read-only by its user; a resolver must then open its backing store read-only. */
    boolean readOnly();

    /** Resolves a nested disk with the same read-only flag. */
    default CompletableFuture<Disk> resolve(DiskSpec nested) {
        return resolve(nested, readOnly());
    }

    /** Resolves a nested disk; {@code readOnly} may only add read-only-ness, never remove it. */
    CompletableFuture<Disk> resolve(DiskSpec nested, boolean readOnly);

    /**
     * Resolves a layer of a layered disk through the {@link LayerResolver} of {@code layer.kind()}. The layer gets
     * exactly {@code readOnly}, which may be false on a read-only disk: a read cache is written even then, which
     * never changes what the disk reads as. The caller owns the result: it attaches or closes it.
     *
     * @return fails with {@link ResolveError.NoResolver} when no resolver has that layer kind (which this default
     *         says of every kind), or as the layer's resolver fails
     * @since 1.1
     */
    default CompletableFuture<UnattachedLayer> resolveLayer(DiskSpec layer, boolean readOnly) {
        return CompletableFuture.failedFuture(new ResolveException(new ResolveError.NoResolver(diskName(),
                layer.kind())));
    }

    /**
     * The state that the element in this place of the previous chain handed over (see
     * {@link org.diskhost.api.handover}), or empty on a first build, when the predecessor had no state, or when the
     * chain was never rebuilt. Each resolver gets its own context, so this is the state of exactly the element being
     * resolved. A resolver that cannot read it must fail with a {@link ResolveError.ResolverError} that says why,
     * never start empty.
     *
     * @since 1.2
     */
    default Optional<HandoverState> handedOver() {
        return Optional.empty();
    }

    /**
     * Registers how the element being resolved hands its state over when its chain is torn down to be rebuilt; at
     * most one exporter per element (a second call replaces the first). Builders that never rebuild ignore it.
     *
     * @since 1.2
     */
    default void handOverWith(StateExporter exporter) {
    }
}
