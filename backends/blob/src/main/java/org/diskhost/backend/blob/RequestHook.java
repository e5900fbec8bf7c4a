package org.diskhost.backend.blob;

import java.io.IOException;

/**
 * Seam (a) for authorization: every request a blob disk sends (the open's HEAD or ranged GET, every read, and what a
 * {@link BlobWrites} sends through {@link BlobHttp#send}) passes through the disk's hook last, on every attempt
 * (a retry is signed again, with a fresh date), after the disk has set every header of its own. So a hook sees the
 * final method, URL and header set ({@code Range}, {@code If-Match}, ...) and can sign it: Azure Shared Key adds
 * {@code x-ms-date}, {@code x-ms-version} and {@code Authorization}; a SAS hook rewrites the URL. Nothing is added
 * after the hook but what the JDK client owns ({@code Host}, {@code Content-Length}, {@code Connection}).
 *
 * <p>Hooks run on the caller's or the HTTP client's threads and must not block. Plain HTTP uses {@link #NONE}.
 */
@FunctionalInterface
interface RequestHook {
    /** Sends requests as they are. */
    RequestHook NONE = request -> request;

    /**
     * The request to send instead of {@code request}.
     *
     * @throws IOException when the request cannot be authorized (a missing key, say): the request fails with it and
     *         is not retried
     */
    BlobRequest apply(BlobRequest request) throws IOException;
}
