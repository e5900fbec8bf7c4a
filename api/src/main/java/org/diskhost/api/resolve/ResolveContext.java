package org.diskhost.api.resolve;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
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
}
