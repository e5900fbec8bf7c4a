/**
 * What the host has been told to serve and how far it got, for frontends and for whoever supervises the host.
 *
 * <p>The host registers a {@link org.diskhost.api.status.DiskStatus} service for every configured disk from the
 * moment its configuration arrives until it is removed, whether or not the disk is ready; the {@code Disk} service
 * itself appears only once the disk is ready. A frontend uses the statuses to tell a name that is configured but
 * still coming up (a client asking for it waits) from a name that is unknown or failed (refused). Each running
 * frontend registers a {@link org.diskhost.api.status.FrontendStatus} (listening where, or failed why), and the host
 * sums everything up in one {@link org.diskhost.api.status.HostStatus}: ready once every configured disk is ready or
 * failed and every configured frontend listens or failed. The states are also in the service properties, so a
 * supervisor (the launcher's systemd notification) can follow them with a filter and without loading this package.
 */
@Export
@Version("1.1.0")
package org.diskhost.api.status;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
