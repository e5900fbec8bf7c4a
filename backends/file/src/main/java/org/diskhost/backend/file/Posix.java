package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * The POSIX file calls the file backend makes through the Foreign Function & Memory API: the one place with native
 * code in this bundle. {@link #AVAILABLE} is false where the calls cannot be bound (not Linux, or native access
 * denied); the backend then uses {@link ChannelFileIo}.
 */
@SuppressWarnings("restricted") // the one place in this bundle that binds native functions, by design
final class Posix {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    /** O_DIRECT differs between architectures; 0 where unknown. */
    static final int O_DIRECT = switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
        case "amd64", "x86_64" -> 0x4000;
        case "aarch64", "arm64" -> 0x10000;
        default -> 0;
    };
    static final int FALLOC_FL_KEEP_SIZE = 1;
    static final int FALLOC_FL_PUNCH_HOLE = 2;
    /** Per-write O_DSYNC (pwritev2): the FUA of a file. */
    static final int RWF_DSYNC = 2;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;
    /** Linux limits one vectored call to this many iovecs. */
    static final int IOV_MAX = 1024;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EACCES = 13;
    static final int EBADF = 9;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;
    static final int EOPNOTSUPP = 95;

    /** struct iovec { void *iov_base; size_t iov_len; } */
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("iov_base"), ValueLayout.JAVA_LONG.withName("iov_len"));

    static final boolean AVAILABLE;
    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle PREADV;
    private static final MethodHandle PWRITEV2;
    private static final MethodHandle FSYNC;
    private static final MethodHandle FDATASYNC;
    private static final MethodHandle FALLOCATE;
    private static final MethodHandle LSEEK;
    private static final MethodHandle STRERROR;

    static {
        boolean available = false;
        StructLayout callState = null;
        VarHandle errno = null;
        MethodHandle open = null, close = null, preadv = null, pwritev2 = null, fsync = null, fdatasync = null,
                fallocate = null, lseek = null, strerror = null;
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                callState = Linker.Option.captureStateLayout();
                errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option capture = Linker.Option.captureCallState("errno");
                ValueLayout i32 = ValueLayout.JAVA_INT;
                ValueLayout i64 = ValueLayout.JAVA_LONG;
                ValueLayout ptr = ValueLayout.ADDRESS;
                open = linker.downcallHandle(libc.findOrThrow("open"), FunctionDescriptor.of(i32, ptr, i32, i32),
                        Linker.Option.firstVariadicArg(2), capture);
                close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(i32, i32), capture);
                preadv = linker.downcallHandle(libc.findOrThrow("preadv"),
                        FunctionDescriptor.of(i64, i32, ptr, i32, i64), capture);
                pwritev2 = linker.downcallHandle(libc.findOrThrow("pwritev2"),
                        FunctionDescriptor.of(i64, i32, ptr, i32, i64, i32), capture);
                fsync = linker.downcallHandle(libc.findOrThrow("fsync"), FunctionDescriptor.of(i32, i32), capture);
                fdatasync = linker.downcallHandle(libc.findOrThrow("fdatasync"), FunctionDescriptor.of(i32, i32),
                        capture);
                fallocate = linker.downcallHandle(libc.findOrThrow("fallocate"),
                        FunctionDescriptor.of(i32, i32, i32, i64, i64), capture);
                lseek = linker.downcallHandle(libc.findOrThrow("lseek"), FunctionDescriptor.of(i64, i32, i64, i32),
                        capture);
                strerror = linker.downcallHandle(libc.findOrThrow("strerror"), FunctionDescriptor.of(ptr, i32));
                available = true;
            } catch (RuntimeException | LinkageError e) {
                // Not bindable here (for example native access denied): the portable engine takes over.
                available = false;
            }
        }
        AVAILABLE = available;
        CALL_STATE = callState;
        ERRNO = errno;
        OPEN = open;
        CLOSE = close;
        PREADV = preadv;
        PWRITEV2 = pwritev2;
        FSYNC = fsync;
        FDATASYNC = fdatasync;
        FALLOCATE = fallocate;
        LSEEK = lseek;
        STRERROR = strerror;
    }

    private Posix() {
    }

    /** A failed call: the operation, the errno and its text. */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        final int errno;

        ErrnoException(String operation, int errno) {
            super(operation + ": " + describe(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }
    }

    static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "error";
        }
    }

    static int open(String path, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment cPath = arena.allocateFrom(path);
            while (true) {
                int fd = (int) OPEN.invokeExact(state, cPath, flags | O_CLOEXEC, 0);
                if (fd >= 0) {
                    return fd;
                }
                int errno = errno(state);
                switch (errno) {
                    case EINTR -> { }
                    case ENOENT -> throw new java.nio.file.NoSuchFileException(path);
                    case EACCES, EPERM -> throw new java.nio.file.AccessDeniedException(path);
                    default -> throw new ErrnoException("open " + path, errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            // Never retry close: on Linux the descriptor is gone even when it reports EINTR.
            if ((int) CLOSE.invokeExact(state, fd) != 0) {
                throw new ErrnoException("close", errno(state));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** One preadv call; returns the bytes read (0 at end of file). Retries EINTR. */
    static long preadv(MemorySegment state, int fd, MemorySegment iov, int count, long offset) throws IOException {
        try {
            while (true) {
                long n = (long) PREADV.invokeExact(state, fd, iov, count, offset);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw new ErrnoException("preadv at " + offset, errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** One pwritev2 call; returns the bytes written. Retries EINTR. */
    static long pwritev2(MemorySegment state, int fd, MemorySegment iov, int count, long offset, int flags)
            throws IOException {
        try {
            while (true) {
                long n = (long) PWRITEV2.invokeExact(state, fd, iov, count, offset, flags);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw new ErrnoException("pwritev2 at " + offset, errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** fdatasync, or fsync when {@code metadata}. */
    static void sync(int fd, boolean metadata) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                int rc = metadata ? (int) FSYNC.invokeExact(state, fd) : (int) FDATASYNC.invokeExact(state, fd);
                if (rc == 0) {
                    return;
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw new ErrnoException(metadata ? "fsync" : "fdatasync", errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void fallocate(int fd, int mode, long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                if ((int) FALLOCATE.invokeExact(state, fd, mode, offset, length) == 0) {
                    return;
                }
                int errno = errno(state);
                if (errno != EINTR) {
                    throw new ErrnoException("fallocate at " + offset + " length " + length, errno);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * lseek with {@code SEEK_DATA} or {@code SEEK_HOLE}: the first offset at or after {@code offset} that starts data
     * or a hole, or -1 when there is no more data ({@code ENXIO}).
     */
    static long seek(MemorySegment state, int fd, long offset, int whence) throws IOException {
        try {
            long at = (long) LSEEK.invokeExact(state, fd, offset, whence);
            if (at >= 0) {
                return at;
            }
            int errno = errno(state);
            if (errno == ENXIO) {
                return -1;
            }
            throw new ErrnoException("lseek to " + (whence == SEEK_DATA ? "data" : "hole") + " from " + offset, errno);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** A segment to receive a call's errno. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }
}
