package org.diskhost.backend.blob;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * A request of a blob disk failed for a reason the disk understands (a status, a malformed answer). The message says
 * what happened in words a user can act on; it never holds the URL's query or a header value.
 */
final class BlobException extends IOException {
    private static final long serialVersionUID = 1L;

    private final boolean retryable;
    private final transient Optional<Duration> retryAfter;

    private BlobException(String message, boolean retryable, Optional<Duration> retryAfter, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /** A failure that another attempt cannot fix. */
    static BlobException fatal(String message) {
        return new BlobException(message, false, Optional.empty(), null);
    }

    static BlobException fatal(String message, Throwable cause) {
        return new BlobException(message, false, Optional.empty(), cause);
    }

    /** A failure that may pass (a 503, a timeout); {@code retryAfter} is the server's {@code Retry-After}. */
    static BlobException retryable(String message, Optional<Duration> retryAfter) {
        return new BlobException(message, true, retryAfter, null);
    }

    boolean isRetryable() {
        return retryable;
    }

    Optional<Duration> retryAfter() {
        return retryAfter;
    }
}
