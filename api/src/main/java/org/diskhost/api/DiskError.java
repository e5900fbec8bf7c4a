package org.diskhost.api;

import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Why a disk request failed: a closed set that a frontend switches over exhaustively to produce its protocol's
 * status (see the NBD frontend's mapping table, or the reference's NVMe and SCSI tables).
 */
public sealed interface DiskError {

    /** The display text of the variant, as a frontend logs it. */
    String message();

    /** The command was aborted because of a preempt-and-abort reservation action. */
    record AbortDueToPreemptAndAbort() implements DiskError {
        public String message() {
            return "aborted command";
        }
    }

    /** The sector or range lies (partly) outside the disk, or is not representable in bytes. */
    record IllegalBlock() implements DiskError {
        public String message() {
            return "illegal request";
        }
    }

    /** Invalid parameters, such as a reservation type that does not match the held reservation. */
    record InvalidInput() implements DiskError {
        public String message() {
            return "invalid input";
        }
    }

    /** An unrecovered I/O error; {@code cause} says what the operating system or the lower layer reported. */
    record Io(Throwable cause) implements DiskError {
        public Io {
            Objects.requireNonNull(cause, "cause");
        }

        public String message() {
            return "io error";
        }
    }

    /** A medium error that the frontend reports with its specific code. */
    record MediumError(Throwable cause, MediumErrorDetails details) implements DiskError {
        public MediumError {
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(details, "details");
        }

        public String message() {
            return "medium error";
        }
    }

    /** The request's guest memory could not be accessed, including a write into read-only buffers. */
    record MemoryAccess(AccessError error) implements DiskError {
        public MemoryAccess {
            Objects.requireNonNull(error, "error");
        }

        public String message() {
            return "failed to access guest memory";
        }
    }

    /** A write or unmap was sent to a read-only disk or range. */
    record ReadOnly() implements DiskError {
        public String message() {
            return "attempt to write to read-only disk/range";
        }
    }

    /** The request conflicts with a persistent reservation. */
    record ReservationConflict() implements DiskError {
        public String message() {
            return "reservation conflict";
        }
    }

    /** The disk has no removable medium to eject. */
    record UnsupportedEject() implements DiskError {
        public String message() {
            return "unsupported eject";
        }
    }

    /**
     * The error behind a failure as a completion stage reports it: the {@link DiskException}'s error, unwrapped from
     * {@link CompletionException} and {@link ExecutionException}; anything else is an {@link Io} error.
     */
    static DiskError of(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof DiskException e ? e.error() : new Io(t);
    }
}
