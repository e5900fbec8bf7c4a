package org.diskhost.api;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The exception a failed disk request completes with. It carries the {@link DiskError}; it records no stack trace,
 * because errors such as {@link DiskError.IllegalBlock} are ordinary results of guest requests.
 */
public final class DiskException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient DiskError error;

    public DiskException(DiskError error) {
        this(error, null);
    }

    public DiskException(DiskError error, String detail) {
        super(describe(error, detail), causeOf(error), false, false);
        this.error = Objects.requireNonNull(error, "error");
    }

    public DiskError error() {
        return error;
    }

    /** A future already failed with {@code error}. */
    public static <T> CompletableFuture<T> failed(DiskError error) {
        return CompletableFuture.failedFuture(new DiskException(error));
    }

    /** A future already failed with {@code error} and a detail for the log. */
    public static <T> CompletableFuture<T> failed(DiskError error, String detail) {
        return CompletableFuture.failedFuture(new DiskException(error, detail));
    }

    private static String describe(DiskError error, String detail) {
        String text = switch (error) {
            case DiskError.Io io -> error.message() + ": " + io.cause().getMessage();
            case DiskError.MediumError m -> error.message() + " (" + m.details() + "): " + m.cause().getMessage();
            case DiskError.MemoryAccess m -> error.message() + ": " + m.error().message();
            default -> error.message();
        };
        return detail == null ? text : text + " (" + detail + ")";
    }

    private static Throwable causeOf(DiskError error) {
        return switch (error) {
            case DiskError.Io io -> io.cause();
            case DiskError.MediumError m -> m.cause();
            case DiskError.MemoryAccess(AccessError.Memory memory) -> memory.cause();
            default -> null;
        };
    }
}
