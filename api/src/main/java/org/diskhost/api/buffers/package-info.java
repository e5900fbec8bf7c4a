/**
 * Request buffers: the guest memory a disk request reads from or writes into, as a scatter-gather list of
 * page-granular ranges over {@link java.lang.foreign.MemorySegment}s, so native I/O can use the memory in place.
 */
@Export
@Version("1.1.0")
package org.diskhost.api.buffers;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
