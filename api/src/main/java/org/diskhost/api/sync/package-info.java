/** Blocking adapters of a {@link org.diskhost.api.Disk} for tools that want streams and channels. */
@Export
@Version("1.0.0")
package org.diskhost.api.sync;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
