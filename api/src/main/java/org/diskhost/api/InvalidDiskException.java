package org.diskhost.api;

/** Thrown by {@link Disk#of} when a backend's metadata is invalid. */
public final class InvalidDiskException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient InvalidDisk reason;

    public InvalidDiskException(InvalidDisk reason) {
        super(reason.message());
        this.reason = reason;
    }

    public InvalidDisk reason() {
        return reason;
    }
}
