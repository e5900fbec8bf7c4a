package org.diskhost.backend.blob;

import java.net.URI;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One HTTP request of a blob disk as it goes out, before the JDK client builds it: what a {@link RequestHook} sees
 * and may change. Header names are case-insensitive (lookups and replacement); the map is ordered by name.
 *
 * @param method {@code GET}, {@code HEAD}, or what a write path sends ({@code PUT})
 * @param uri the final URL (redirects resolved at open), query included
 * @param headers every header the disk sets: {@code Range}, {@code If-Match}, the {@code headers} setting's, ...
 * @param contentLength the body's length in bytes; 0 for requests without a body
 */
record BlobRequest(String method, URI uri, Map<String, String> headers, long contentLength) {
    BlobRequest {
        TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(headers);
        headers = Collections.unmodifiableMap(copy);
    }

    static BlobRequest of(String method, URI uri, Map<String, String> headers) {
        return new BlobRequest(method, uri, headers, 0);
    }

    /** This request with header {@code name} set to {@code value} (replacing any value of any case). */
    BlobRequest withHeader(String name, String value) {
        TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(headers);
        copy.put(name, value);
        return new BlobRequest(method, uri, copy, contentLength);
    }

    /** This request without header {@code name}. */
    BlobRequest withoutHeader(String name) {
        TreeMap<String, String> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        copy.putAll(headers);
        copy.remove(name);
        return new BlobRequest(method, uri, copy, contentLength);
    }

    /** This request sent to {@code uri} (a hook that appends a SAS token, say). */
    BlobRequest withUri(URI uri) {
        return new BlobRequest(method, uri, headers, contentLength);
    }

    Optional<String> header(String name) {
        return Optional.ofNullable(headers.get(name));
    }
}
