package org.diskhost.api.resolve;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
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
}
