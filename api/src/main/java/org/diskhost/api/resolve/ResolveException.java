package org.diskhost.api.resolve;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** A failed resolution; carries the {@link ResolveError}. */
public final class ResolveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient ResolveError error;

    public ResolveException(ResolveError error) {
        this(error, null);
    }

    public ResolveException(ResolveError error, Throwable cause) {
        super(error.message() + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
        this.error = error;
    }

    public ResolveError error() {
        return error;
    }

    /**
     * The resolve exception behind a failed resolution, or one that wraps {@code failure} as a
     * {@link ResolveError.ResolverError} of {@code disk} and {@code kind}.
     */
    public static ResolveException of(Throwable failure, String disk, String kind) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ResolveException e) {
            return e;
        }
        String problem = t.getClass().getSimpleName();
        return new ResolveException(new ResolveError.ResolverError(disk, kind, problem), t);
    }
}
