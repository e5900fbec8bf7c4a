package org.diskhost.backend.blob;

import java.net.URI;
import java.net.http.HttpClient;
import java.util.Optional;

/**
 * Seam (b): what a blob disk learned about its blob at open, from the HEAD (or the ranged GET that replaces a refused
 * HEAD). Fixed for the disk's life: reads are pinned to it.
 *
 * @param uri the final URL after redirects, which every request uses
 * @param version the HTTP version the server answered with
 * @param length the blob's length in bytes
 * @param etag the strong entity tag, sent as {@code If-Match} on every read; empty when the server gave none, or only
 *        a weak one (which {@code If-Match} can never match)
 * @param lastModified {@code Last-Modified}, sent as {@code If-Unmodified-Since} when there is no strong ETag
 * @param blobType Azure's {@code x-ms-blob-type} ({@code BlockBlob}, {@code PageBlob}, {@code AppendBlob}) when the
 *        server sent one
 */
record BlobProperties(URI uri, HttpClient.Version version, long length, Optional<String> etag,
        Optional<String> lastModified, Optional<String> blobType) {

    /** Whether this is an Azure page blob (the only kind of blob a disk may write). */
    boolean isPageBlob() {
        return blobType.filter("PageBlob"::equalsIgnoreCase).isPresent();
    }

    /** These properties without the pin: for a disk that writes its blob itself, which changes the ETag. */
    BlobProperties unpinned() {
        return new BlobProperties(uri, version, length, Optional.empty(), Optional.empty(), blobType);
    }

    /** These properties with the blob's new {@code length} (a page blob resized while the disk is open). */
    BlobProperties withLength(long length) {
        return new BlobProperties(uri, version, length, etag, lastModified, blobType);
    }
}
