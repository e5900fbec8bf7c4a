package org.diskhost.nativeio.ioctl;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * Descriptors and raw ioctls: {@code open}, {@code close} and {@code ioctl} of libc, failures as
 * {@link ErrnoException}. The typed helpers ({@link BlockIoctls}, {@link CdromIoctls}, {@link PrIoctls},
 * {@link NvmePassthrough}) build on {@link #call}.
 *
 * <p>Every method except {@link #unavailable()} throws {@link IllegalStateException} where native calls cannot be
 * made; a caller asks {@link #unavailable()} once, first. The calls block the calling thread in the kernel (an
 * NVMe command may take seconds), so call them from a platform thread or accept that a virtual thread pins its
 * carrier.
 */
public final class Ioctl {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    /**
     * With a block device: an exclusive open, which fails with {@link Errnos#EBUSY} while the device is mounted,
     * held by device-mapper or md, or open with {@code O_EXCL} by anybody else.
     */
    public static final int O_EXCL = 0x80;
    /** Per architecture: 0x4000 on x86_64, 0x10000 on aarch64, 0 where native calls are unavailable. */
    public static final int O_DIRECT = Native.O_DIRECT;

    private Ioctl() {
    }

    /**
     * Why native calls cannot be made here (not Linux on x86_64 or aarch64, or native access denied to this code,
     * which needs {@code --enable-native-access}); empty when they can.
     */
    public static Optional<String> unavailable() {
        return Optional.ofNullable(Native.UNBOUND);
    }

    /**
     * {@code open(path, flags | O_CLOEXEC)}, retried on EINTR.
     *
     * @return the new descriptor
     * @throws ErrnoException for example {@link Errnos#ENOENT} (no such path), {@link Errnos#EACCES},
     *                        {@link Errnos#EBUSY} ({@link #O_EXCL} on a block device in use),
     *                        {@link Errnos#EROFS} (writing on a read-only device), {@link Errnos#ENXIO} or
     *                        {@link Errnos#ENOMEDIUM} (a device without its medium)
     */
    public static int open(String path, int flags) throws ErrnoException {
        return retried(() -> Native.open(path, flags | Native.O_CLOEXEC), "open " + path);
    }

    /**
     * {@code close(fd)}; never retried, since Linux releases the descriptor even when it reports EINTR (a retry could
     * close a descriptor another thread has just been given).
     *
     * @throws ErrnoException {@link Errnos#EBADF} for a descriptor that is not open; {@link Errnos#EIO} when a
     *                        write-back failed (the descriptor is closed anyway)
     */
    public static void close(int fd) throws ErrnoException {
        int rc = Native.close(fd);
        if (rc < 0) {
            throw new ErrnoException("close fd " + fd, -rc);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument, retried on EINTR.
     *
     * @param arg  native memory the request reads or fills (its size is the request's, see {@link IoctlRequest}), or
     *             {@link MemorySegment#NULL}; a heap segment is refused by the linker
     * @param what what is asked, for the exception's message, for example {@code "BLKGETSIZE64 fd 7"}
     * @return the call's non-negative result (most requests answer 0; some, such as the PR and NVMe requests, answer
     *         a positive device status, which the caller interprets)
     * @throws ErrnoException {@link Errnos#EBADF} (no such descriptor), {@link Errnos#ENOTTY} (the descriptor's
     *                        driver does not know the request), {@link Errnos#EINVAL} (an argument it refuses; some
     *                        drivers also answer unknown requests so), {@link Errnos#EFAULT}, or the request's own
     */
    public static int call(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        return retried(() -> Native.ioctl(fd, request, arg), what);
    }

    /**
     * {@code ioctl(fd, request, arg)} with an integer argument (or none: pass 0); otherwise as
     * {@link #call(int, long, MemorySegment, String)}.
     */
    public static int call(int fd, long request, long arg, String what) throws ErrnoException {
        return retried(() -> Native.ioctl(fd, request, arg), what);
    }

    /** Makes {@code call} (a result or -errno) until it answers anything but EINTR. */
    private static int retried(IntSupplier call, String what) throws ErrnoException {
        int rc;
        do {
            rc = call.getAsInt();
        } while (rc == -Errnos.EINTR);
        if (rc < 0) {
            throw new ErrnoException(what, -rc);
        }
        return rc;
    }
}
