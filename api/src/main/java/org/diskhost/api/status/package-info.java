/**
 * What the host has been told to serve and how far it got, for frontends and for whoever supervises the host.
 *
 * <p>The host registers a {@link org.diskhost.api.status.DiskStatus} service for every configured disk from the
 * moment its configuration arrives until it is removed, whether or not the disk is ready; the {@code Disk} service
 * itself appears only once the disk is ready. A frontend uses the statuses to tell a name that is configured but
 * still coming up (a client asking for it waits) from a name that is unknown or failed (refused). The state is also
 * in the service properties, so a supervisor can follow it with a filter and without loading this package.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.status;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
