package org.diskhost.nativeio.uring;

import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * A failed io_uring operation or ring call: a negative {@code cqe.res} or syscall result. Its {@link #errno()} and
 * message are {@link ErrnoException}'s, so that a backend maps any errno the same way (for example {@link Errno#ENOSPC}
 * to "no space"); the type says that the ring reported it.
 */
public final class UringException extends ErrnoException {
    private static final long serialVersionUID = 1L;

    /** {@code operation} says what failed, for example "writev fd 7 at 4096". */
    public UringException(String operation, int errno) {
        super(operation, errno);
    }
}
