package org.diskhost.nativeio.libc;

/**
 * The Linux error numbers the native libraries and their users name: the generic numbering of
 * {@code asm-generic/errno-base.h} and {@code asm-generic/errno.h}, the same on x86_64 and aarch64. Compile-time
 * constants, so that callers can switch on them.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    /** "Invalid exchange": what Linux reports for a reservation conflict ({@code BLK_STS_RESV_CONFLICT}). */
    public static final int EBADE = 52;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int ENOBUFS = 105;
    public static final int ECONNREFUSED = 111;
    public static final int EDQUOT = 122;
    public static final int ENOMEDIUM = 123;

    private Errno() {
    }

    /** The C library's text for {@code errno} ({@code strerror}), or "errno N" where native calls are unavailable. */
    public static String describe(int errno) {
        return Libc.strerror(errno);
    }
}
