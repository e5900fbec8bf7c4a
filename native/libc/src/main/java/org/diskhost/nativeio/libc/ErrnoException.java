package org.diskhost.nativeio.libc;

import java.io.IOException;

/**
 * A failed native call, with its Linux error number so that a caller can map it (for example {@link Errno#EBADE},
 * a reservation conflict, or {@link Errno#ENOSPC}). The message is {@code "<what>: <strerror text> (errno N)"}.
 * A library may subclass it to tell its own failures apart (io_uring's {@code UringException}); a caller that only
 * wants the errno catches this class.
 */
public class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    /**
     * @param what  what failed, naming the call and its object, for example {@code "BLKDISCARD /dev/loop3"}
     * @param errno the positive Linux error number
     */
    public ErrnoException(String what, int errno) {
        super(what + ": " + Errno.describe(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    /** The positive Linux error number. */
    public int errno() {
        return errno;
    }
}
