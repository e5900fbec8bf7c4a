package org.diskhost.nativeio.uring;

import java.io.IOException;

/**
 * A failed native call or io_uring operation: a negative {@code cqe.res} or syscall result, with its {@link #errno()}
 * so that a backend can map it (for example {@link Errno#ENOSPC} to "no space").
 */
public final class UringException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    /** {@code operation} says what failed, for example "writev fd 7 at 4096". */
    public UringException(String operation, int errno) {
        super(operation + ": " + Errno.describe(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    /** The positive Linux error number. */
    public int errno() {
        return errno;
    }
}
