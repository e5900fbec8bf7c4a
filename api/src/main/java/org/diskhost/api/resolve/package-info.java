/**
 * How configuration becomes a {@link org.diskhost.api.Disk}. Each backend bundle registers a
 * {@link org.diskhost.api.resolve.DiskResolver} service for its kind; a resolver reads its
 * {@link org.diskhost.api.resolve.Settings} and resolves nested disks through the
 * {@link org.diskhost.api.resolve.ResolveContext}, so any chain can be built from the bundles present. Outside
 * OSGi, {@link org.diskhost.api.resolve.StandaloneResolution} finds resolvers with {@link java.util.ServiceLoader}.
 * Layers of layered disks come the same way from {@link org.diskhost.api.resolve.LayerResolver}s (since 1.1).
 * Elements hand their state to their successors through the context when a chain is rebuilt (since 1.2; see
 * {@link org.diskhost.api.handover}).
 */
@Export
@Version("1.2.0")
package org.diskhost.api.resolve;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
