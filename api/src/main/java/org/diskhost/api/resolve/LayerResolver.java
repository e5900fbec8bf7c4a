package org.diskhost.api.resolve;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.layer.UnattachedLayer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Builds layers of one layer kind from their settings, for layered disks: the layer counterpart of
 * {@link DiskResolver}. A bundle registers one as an OSGi service with the {@value DiskResolver#KIND_PROPERTY}
 * service property set to {@link #kind()}, and publishes it for {@link java.util.ServiceLoader} too. Layer kinds
 * and disk kinds are separate name spaces.
 */
@ConsumerType
public interface LayerResolver {

    /** The layer kind name, such as {@code "ram"}: lowercase letters, digits and dashes. */
    String kind();

    /**
     * Builds a layer from {@code spec}, whose kind is {@link #kind()}. The layer is not attached yet: the layered disk
     * attaches it over the layer below. Nested disks are resolved through {@code context}, whose
     * {@link ResolveContext#readOnly()} is the layer's own read-only flag: the layer must then open its store
     * read-only.
     *
     * @return the unattached layer; fails with a {@link ResolveException}: {@link ResolveError.ParseError} for a
     *         missing or bad setting, {@link ResolveError.ResolverError} when the store cannot be opened
     * @throws ResolveException as {@link DiskResolver#resolve} may (since 1.2)
     */
    CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context);
}
