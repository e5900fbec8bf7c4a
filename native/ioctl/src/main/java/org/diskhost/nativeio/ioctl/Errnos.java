package org.diskhost.nativeio.ioctl;

import org.diskhost.nativeio.libc.Errno;

/**
 * The Linux error numbers the callers of this package name, under the name they have always used: libc's
 * {@link Errno}, where the numbers are defined, as compile-time constants (callers switch on them).
 */
public final class Errnos {
    public static final int EPERM = Errno.EPERM;
    public static final int ENOENT = Errno.ENOENT;
    public static final int EINTR = Errno.EINTR;
    public static final int EIO = Errno.EIO;
    public static final int ENXIO = Errno.ENXIO;
    public static final int EBADF = Errno.EBADF;
    public static final int EAGAIN = Errno.EAGAIN;
    public static final int ENOMEM = Errno.ENOMEM;
    public static final int EACCES = Errno.EACCES;
    public static final int EFAULT = Errno.EFAULT;
    public static final int EBUSY = Errno.EBUSY;
    public static final int ENODEV = Errno.ENODEV;
    public static final int EINVAL = Errno.EINVAL;
    public static final int ENOTTY = Errno.ENOTTY;
    public static final int ENOSPC = Errno.ENOSPC;
    public static final int EROFS = Errno.EROFS;
    public static final int ENOSYS = Errno.ENOSYS;
    /** "Invalid exchange": what Linux reports for a reservation conflict ({@code BLK_STS_RESV_CONFLICT}). */
    public static final int EBADE = Errno.EBADE;
    public static final int EOPNOTSUPP = Errno.EOPNOTSUPP;
    public static final int ENOMEDIUM = Errno.ENOMEDIUM;

    private Errnos() {
    }

    /** {@link Errno#describe}: the C library's text for {@code errno}, or "errno N" where it cannot be asked. */
    public static String describe(int errno) {
        return Errno.describe(errno);
    }
}
