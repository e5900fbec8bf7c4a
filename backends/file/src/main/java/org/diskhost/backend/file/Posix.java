package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.diskhost.nativeio.libc.Downcalls;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;

/**
 * The POSIX file calls the file backend makes through the Foreign Function & Memory API ({@code preadv},
 * {@code pwritev2}, {@code fsync}, {@code fdatasync}, {@code fallocate}, {@code lseek}): the one place that binds
 * native functions in this bundle; descriptors, errno and the open flags are {@link Libc}'s. {@link #AVAILABLE} is
 * false where the calls cannot be bound (another platform, or native access denied); the backend then uses
 * {@link ChannelFileIo}. Failures are {@link ErrnoException}s; EINTR is retried.
 */
final class Posix {
    static final int FALLOC_FL_KEEP_SIZE = 1;
    static final int FALLOC_FL_PUNCH_HOLE = 2;
    /** Per-write O_DSYNC (pwritev2): the FUA of a file. */
    static final int RWF_DSYNC = 2;
    /** Per-read: fail with EAGAIN rather than wait for the device (the data is not all in the page cache). */
    static final int RWF_NOWAIT = 8;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    /** Linux limits one vectored call to this many iovecs. */
    static final int IOV_MAX = 1024;

    /** struct iovec { void *iov_base; size_t iov_len; } */
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("iov_base"), ValueLayout.JAVA_LONG.withName("iov_len"));

    private static final ValueLayout I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout I64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;
    private static final Downcalls DOWNCALLS = new Downcalls();
    private static final MethodHandle PREADV = DOWNCALLS.capturingErrno("preadv",
            FunctionDescriptor.of(I64, I32, PTR, I32, I64));
    private static final MethodHandle PREADV2 = DOWNCALLS.capturingErrno("preadv2",
            FunctionDescriptor.of(I64, I32, PTR, I32, I64, I32));
    private static final MethodHandle PWRITEV2 = DOWNCALLS.capturingErrno("pwritev2",
            FunctionDescriptor.of(I64, I32, PTR, I32, I64, I32));
    private static final MethodHandle FSYNC = DOWNCALLS.capturingErrno("fsync", FunctionDescriptor.of(I32, I32));
    private static final MethodHandle FDATASYNC = DOWNCALLS.capturingErrno("fdatasync",
            FunctionDescriptor.of(I32, I32));
    private static final MethodHandle FALLOCATE = DOWNCALLS.capturingErrno("fallocate",
            FunctionDescriptor.of(I32, I32, I32, I64, I64));
    private static final MethodHandle LSEEK = DOWNCALLS.capturingErrno("lseek",
            FunctionDescriptor.of(I64, I32, I64, I32));
    /** Whether every call here is bound; after the handles, which it reports on. */
    static final boolean AVAILABLE = DOWNCALLS.failure().isEmpty();

    private Posix() {
    }

    /**
     * {@link Libc#open(String, int)}, with the two failures a user makes most often as the JDK's exceptions for them:
     * {@link NoSuchFileException} and {@link AccessDeniedException}.
     */
    static int open(String path, int flags) throws IOException {
        try {
            return Libc.open(path, flags);
        } catch (ErrnoException e) {
            throw switch (e.errno()) {
                case Errno.ENOENT -> new NoSuchFileException(path);
                case Errno.EACCES, Errno.EPERM -> new AccessDeniedException(path);
                default -> e;
            };
        }
    }

    /** One preadv call; returns the bytes read (0 at end of file). */
    static long preadv(MemorySegment state, int fd, MemorySegment iov, int count, long offset) throws ErrnoException {
        long n = Libc.retried(state, () -> (long) PREADV.invokeExact(state, fd, iov, count, offset));
        if (n < 0) {
            throw new ErrnoException("preadv at " + offset, (int) -n);
        }
        return n;
    }

    /** One preadv2 call with {@code flags}; returns the bytes read, or -errno (no exception: EAGAIN is expected). */
    static long preadv2(MemorySegment state, int fd, MemorySegment iov, int count, long offset, int flags) {
        return Libc.retried(state, () -> (long) PREADV2.invokeExact(state, fd, iov, count, offset, flags));
    }

    /** One pwritev2 call; returns the bytes written. */
    static long pwritev2(MemorySegment state, int fd, MemorySegment iov, int count, long offset, int flags)
            throws ErrnoException {
        long n = Libc.retried(state, () -> (long) PWRITEV2.invokeExact(state, fd, iov, count, offset, flags));
        if (n < 0) {
            throw new ErrnoException("pwritev2 at " + offset, (int) -n);
        }
        return n;
    }

    /** fdatasync, or fsync when {@code metadata}. */
    static void sync(int fd, boolean metadata) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            long rc = Libc.retried(state, metadata ? () -> (int) FSYNC.invokeExact(state, fd)
                    : () -> (int) FDATASYNC.invokeExact(state, fd));
            if (rc < 0) {
                throw new ErrnoException(metadata ? "fsync" : "fdatasync", (int) -rc);
            }
        }
    }

    static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            long rc = Libc.retried(state, () -> (int) FALLOCATE.invokeExact(state, fd, mode, offset, length));
            if (rc < 0) {
                throw new ErrnoException("fallocate at " + offset + " length " + length, (int) -rc);
            }
        }
    }

    /**
     * lseek with {@code SEEK_DATA} or {@code SEEK_HOLE}: the first offset at or after {@code offset} that starts data
     * or a hole, or -1 when there is no more data ({@code ENXIO}).
     */
    static long seek(MemorySegment state, int fd, long offset, int whence) throws ErrnoException {
        long at = Libc.result(state, () -> (long) LSEEK.invokeExact(state, fd, offset, whence));
        if (at == -Errno.ENXIO) {
            return -1;
        }
        if (at < 0) {
            throw new ErrnoException("lseek to " + (whence == SEEK_DATA ? "data" : "hole") + " from " + offset,
                    (int) -at);
        }
        return at;
    }
}
