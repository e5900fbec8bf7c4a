/**
 * Persistent reservations (SCSI PERSISTENT RESERVE, NVMe reservations): the interface a disk exposes through
 * {@link org.diskhost.api.DiskIo#pr()}, its types with their wire codes, capabilities and reports.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.pr;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
