package org.diskhost.nativeio.uring;

/**
 * The Linux error numbers this package and its users name (the generic numbering, the same on x86_64 and aarch64).
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
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int EDQUOT = 122;

    private Errno() {
    }

    /** The C library's text for {@code errno} ({@code strerror}), or "errno N" where it cannot be asked. */
    public static String describe(int errno) {
        return Linux.strerror(errno);
    }
}
