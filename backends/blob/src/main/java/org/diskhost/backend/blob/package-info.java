/** Kind {@code blob}: a disk image in object storage (plain HTTP(S) or Azure Blob). Internal: exports nothing. */
package org.diskhost.backend.blob;
