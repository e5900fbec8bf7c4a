package org.diskhost.nativeio.ioctl;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;

/**
 * Descriptors and raw ioctls: {@code open} and {@code close} ({@link Libc}'s) and {@code ioctl}, failures as
 * {@link ErrnoException}. The typed helpers ({@link BlockIoctls}, {@link CdromIoctls}, {@link PrIoctls},
 * {@link NvmePassthrough}) build on {@link #call}.
 *
 * <p>Every method except {@link #unavailable()} throws {@link IllegalStateException} where native calls cannot be
 * made; a caller asks {@link #unavailable()} once, first. The calls block the calling thread in the kernel (an
 * NVMe command may take seconds), so call them from a platform thread or accept that a virtual thread pins its
 * carrier.
 */
public final class Ioctl {
    public static final int O_RDONLY = Libc.O_RDONLY;
    public static final int O_WRONLY = Libc.O_WRONLY;
    public static final int O_RDWR = Libc.O_RDWR;
    /**
     * With a block device: an exclusive open, which fails with {@link Errno#EBUSY} while the device is mounted, held
     * by device-mapper or md, or open with {@code O_EXCL} by anybody else.
     */
    public static final int O_EXCL = Libc.O_EXCL;
    /** Per architecture: 0x4000 on x86_64, 0x10000 on aarch64, 0 on any other. */
    public static final int O_DIRECT = Libc.O_DIRECT;

    private Ioctl() {
    }

    /**
     * Why native calls cannot be made here ({@link Libc#unavailable()}: not Linux on x86_64 or aarch64, or native
     * access denied to this code, which needs {@code --enable-native-access}; or no {@code ioctl} in this C library);
     * empty when they can.
     */
    public static Optional<String> unavailable() {
        return Optional.ofNullable(Native.UNBOUND);
    }

    /**
     * {@link Libc#open(String, int)}: {@code open(path, flags | O_CLOEXEC)}, retried on EINTR.
     *
     * @return the new descriptor
     * @throws ErrnoException for example {@link Errno#ENOENT} (no such path), {@link Errno#EACCES},
     *                        {@link Errno#EBUSY} ({@link #O_EXCL} on a block device in use),
     *                        {@link Errno#EROFS} (writing on a read-only device), {@link Errno#ENXIO} or
     *                        {@link Errno#ENOMEDIUM} (a device without its medium)
     */
    public static int open(String path, int flags) throws ErrnoException {
        return Libc.open(path, flags);
    }

    /**
     * {@link Libc#close(int)}: {@code close(fd)}; never retried, since Linux releases the descriptor even when it
     * reports EINTR.
     *
     * @throws ErrnoException {@link Errno#EBADF} for a descriptor that is not open; {@link Errno#EIO} when a
     *                        write-back failed (the descriptor is closed anyway)
     */
    public static void close(int fd) throws ErrnoException {
        Libc.close(fd);
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument, retried on EINTR.
     *
     * @param arg  native memory the request reads or fills (its size is the request's, see {@link IoctlRequest}), or
     *             {@link MemorySegment#NULL}; a heap segment is refused by the linker
     * @param what what is asked, for the exception's message, for example {@code "BLKGETSIZE64 fd 7"}
     * @return the call's non-negative result (most requests answer 0; some, such as the PR and NVMe requests, answer
     *         a positive device status, which the caller interprets)
     * @throws ErrnoException {@link Errno#EBADF} (no such descriptor), {@link Errno#ENOTTY} (the descriptor's
     *                        driver does not know the request), {@link Errno#EINVAL} (an argument it refuses; some
     *                        drivers also answer unknown requests so), {@link Errno#EFAULT}, or the request's own
     */
    public static int call(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        return checked(Native.ioctl(fd, request, arg), what);
    }

    /**
     * {@code ioctl(fd, request, arg)} with an integer argument (or none: pass 0); otherwise as
     * {@link #call(int, long, MemorySegment, String)}.
     */
    public static int call(int fd, long request, long arg, String what) throws ErrnoException {
        return checked(Native.ioctl(fd, request, arg), what);
    }

    /** {@code rc}, a result or -errno, as a result or an exception. */
    private static int checked(int rc, String what) throws ErrnoException {
        if (rc < 0) {
            throw new ErrnoException(what, -rc);
        }
        return rc;
    }
}
