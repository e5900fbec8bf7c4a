package org.diskhost.backend.blob;

import java.net.URI;

/** URLs as messages and inspect output show them: without the query, which may hold a SAS or presigned token. */
final class Redacted {
    private Redacted() {
    }

    /** {@code scheme://host[:port]/path}, then {@code ?...} when the URL has a query. */
    static String uri(URI uri) {
        StringBuilder s = new StringBuilder();
        s.append(uri.getScheme()).append("://").append(uri.getHost());
        if (uri.getPort() >= 0) {
            s.append(':').append(uri.getPort());
        }
        s.append(uri.getRawPath() == null ? "" : uri.getRawPath());
        if (uri.getRawQuery() != null) {
            s.append("?...");
        }
        return s.toString();
    }
}
