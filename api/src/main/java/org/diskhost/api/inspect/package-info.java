/**
 * Diagnostics: every disk, backend and decorator describes itself as a tree of named values, which the host shows
 * in its shell and logs.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.inspect;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
