package org.diskhost.api.resolve;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Builds disks of one kind from their settings. A backend bundle registers one as an OSGi service with the
 * {@value #KIND_PROPERTY} service property set to {@link #kind()}, and publishes it for {@link java.util.ServiceLoader}
 * too.
 */
@ConsumerType
public interface DiskResolver {
    /** The service property that names the kind a resolver service handles. */
    String KIND_PROPERTY = "diskhost.kind";

    /** The kind name, such as {@code "file"}: lowercase letters, digits and dashes. */
    String kind();

    /**
     * Builds a disk from {@code spec}, whose kind is {@link #kind()}. Nested disks are resolved through
     * {@code context}, which also owns them. The resolver applies {@link ResolveContext#readOnly()}.
     *
     * @return the disk; fails with a {@link ResolveException}: {@link ResolveError.ParseError} for a missing or bad
     *         setting (see {@link Settings}), {@link ResolveError.ResolverError} when the backing store cannot be
     *         opened
     * @throws ResolveException the same errors may instead be thrown when the resolver finds them before any
     *         asynchronous work, as {@link Settings} does; whoever builds the chain ({@link ResolvedChain}) treats a
     *         throw exactly like a failed result, so a resolver need not catch and repackage them (since 1.2)
     */
    CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context);
}
