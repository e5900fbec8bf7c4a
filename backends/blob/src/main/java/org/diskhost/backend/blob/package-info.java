/**
 * Kind {@code blob}: a disk image in object storage, read with ranged HTTP(S) {@code GET}s (the reference's
 * {@code BlobDisk}, pinned, retried, bounded and split into parallel ranges). Internal: exports nothing.
 *
 * <p>Where the Azure parts plug in: {@link org.diskhost.backend.blob.RequestHook} (signing every request),
 * {@link org.diskhost.backend.blob.BlobProperties} (what the open found, {@code x-ms-blob-type} included),
 * {@link org.diskhost.backend.blob.BlobWrites} (writes, unmap, flush, allocation; read-only by default) and
 * {@link org.diskhost.backend.blob.BlobHttp#send} (requests with the disk's bound, deadline and retries).
 */
package org.diskhost.backend.blob;
