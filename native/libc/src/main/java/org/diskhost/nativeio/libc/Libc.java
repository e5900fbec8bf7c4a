package org.diskhost.nativeio.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The C library as the native libraries of diskhost use it: whether native calls can be made here at all
 * ({@link #unavailable()}), errno read from a call-state segment the linker fills ({@link #callState},
 * {@link #result}, {@link #retried}), {@link #strerror}, descriptors ({@link #open}, {@link #close}) and the open
 * flags. Each library binds its own functions through {@link Downcalls}.
 *
 * <p>Errno is captured by the linker ({@code Linker.Option.captureCallState("errno")}) into a segment passed as the
 * first argument of each call, so that nothing the JVM does between the call and the read can overwrite it. The
 * convention of the calls here is the kernel's: the result, or {@code -errno}.
 *
 * <p>Every method but {@link #unavailable()}, {@link #strerror} and {@link #rethrow} throws
 * {@link IllegalStateException} where native calls cannot be made; a caller asks {@link #unavailable()} first.
 */
@SuppressWarnings("restricted") // binding native functions is this class's job
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    /**
     * Fails {@code O_CREAT} on an existing path; on a block device, an exclusive open, which fails with
     * {@link Errno#EBUSY} while the device is mounted, held by device-mapper or md, or open with {@code O_EXCL} by
     * anybody else.
     */
    public static final int O_EXCL = 0x80;
    /** Also {@code EFD_NONBLOCK}. */
    public static final int O_NONBLOCK = 0x800;
    /** Added by {@link #open} to every open: no descriptor leaks into a child process. */
    public static final int O_CLOEXEC = 0x80000;
    /** Per architecture: 0x4000 on x86_64, 0x10000 on aarch64, 0 on any other. */
    public static final int O_DIRECT = oDirect(System.getProperty("os.arch", ""));

    /** Why native calls cannot be made, or null when they can. */
    private static final String UNAVAILABLE;
    private static final Linker LINKER;
    private static final Linker.Option CAPTURE_ERRNO;
    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;
    private static final MethodHandle EVENTFD;
    private static final MethodHandle WRITE;
    /** The 8-byte 1 every eventfd wake-up writes: read-only, so all threads share it. */
    private static final MemorySegment ONE;

    static {
        String unavailable = platformProblem(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
        Linker linker = null;
        Linker.Option capture = null;
        StructLayout callState = null;
        VarHandle errno = null;
        MethodHandle open = null, close = null, strerror = null, eventfd = null, write = null;
        MemorySegment one = null;
        if (unavailable == null) {
            try {
                linker = Linker.nativeLinker();
                capture = Linker.Option.captureCallState("errno");
                callState = Linker.Option.captureStateLayout();
                errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                ValueLayout i32 = ValueLayout.JAVA_INT;
                ValueLayout ptr = ValueLayout.ADDRESS;
                // open(2) is variadic: the mode must be passed as the variadic convention wants it.
                open = downcall(linker, "open", FunctionDescriptor.of(i32, ptr, i32, i32),
                        Linker.Option.firstVariadicArg(2), capture);
                close = downcall(linker, "close", FunctionDescriptor.of(i32, i32), capture);
                strerror = downcall(linker, "strerror", FunctionDescriptor.of(ptr, i32));
                eventfd = downcall(linker, "eventfd", FunctionDescriptor.of(i32, i32, i32), capture);
                write = downcall(linker, "write", FunctionDescriptor.of(ValueLayout.JAVA_LONG, i32, ptr,
                        ValueLayout.JAVA_LONG));
                one = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);
            } catch (RuntimeException | LinkageError e) {
                unavailable = bindFailure("libc", e);
            }
        }
        UNAVAILABLE = unavailable;
        LINKER = linker;
        CAPTURE_ERRNO = capture;
        CALL_STATE = callState;
        ERRNO = errno;
        OPEN = open;
        CLOSE = close;
        STRERROR = strerror;
        EVENTFD = eventfd;
        WRITE = write;
        ONE = one;
    }

    private Libc() {
    }

    /**
     * Why native calls cannot be made here: not Linux on x86_64 or aarch64 (the constants of the native libraries are
     * those of these two), or native access denied to this code ({@code IllegalCallerException}: the JVM needs
     * {@code --enable-native-access}). Empty when they can.
     */
    public static Optional<String> unavailable() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    /** A segment that receives the errno of the calls it is passed to; one per thread that makes calls. */
    public static MemorySegment callState(Arena arena) {
        requireAvailable();
        return arena.allocate(CALL_STATE);
    }

    /** The errno the last call given {@code state} captured (meaningful only when that call failed). */
    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** A call of a downcall handle that answers -1 (or another negative number) and sets errno on failure. */
    @FunctionalInterface
    public interface Call {
        long invoke() throws Throwable;
    }

    /**
     * Makes {@code call}, which must capture its errno into {@code state}: its result, or {@code -errno} when it
     * failed. A lambda per call: a hot path calls its handle itself and reads {@link #errno}.
     */
    public static long result(MemorySegment state, Call call) {
        long rc;
        try {
            rc = call.invoke();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : rc;
    }

    /** {@link #result} made again until it answers anything but {@code -EINTR}. */
    public static long retried(MemorySegment state, Call call) {
        long rc;
        do {
            rc = result(state, call);
        } while (rc == -Errno.EINTR);
        return rc;
    }

    /**
     * Throws {@code t}, which a downcall handle's {@code invokeExact} declares but only ever throws unchecked: a
     * runtime exception or error as it is, anything else wrapped in an {@link IllegalStateException}. Declared to
     * return so that a caller can write {@code throw rethrow(t)}.
     */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /** The C library's text for {@code errno}, or "errno N" where it cannot be asked. */
    public static String strerror(int errno) {
        if (STRERROR == null) {
            return "errno " + errno;
        }
        try {
            // glibc returns a static string for known numbers and "Unknown error N" otherwise.
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** {@code open(path, flags | O_CLOEXEC)}: {@link #open(String, int, int)} with mode 0. */
    public static int open(String path, int flags) throws ErrnoException {
        return open(path, flags, 0);
    }

    /**
     * {@code open(path, flags | O_CLOEXEC, mode)}, retried on EINTR.
     *
     * @param mode the permissions of a file {@link #O_CREAT} creates (less the umask); ignored otherwise
     * @return the new descriptor
     * @throws ErrnoException "open PATH: ..." with, for example, {@link Errno#ENOENT}, {@link Errno#EACCES},
     *                        {@link Errno#EBUSY} ({@link #O_EXCL} on a block device in use), {@link Errno#EROFS},
     *                        {@link Errno#EINVAL} ({@link #O_DIRECT} on a file system without it)
     */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            MemorySegment cPath = arena.allocateFrom(path);
            int fd = (int) retried(state, () -> (int) OPEN.invokeExact(state, cPath, flags | O_CLOEXEC, mode));
            if (fd < 0) {
                throw new ErrnoException("open " + path, -fd);
            }
            return fd;
        }
    }

    /**
     * {@code close(fd)}; never retried, since Linux releases the descriptor even when it reports EINTR (a retry could
     * close a descriptor another thread has just been given).
     *
     * @throws ErrnoException "close fd N: ..." with {@link Errno#EBADF} for a descriptor that is not open;
     *                        {@link Errno#EIO} when a write-back failed (the descriptor is closed anyway)
     */
    public static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            int rc = (int) result(state, () -> (int) CLOSE.invokeExact(state, fd));
            if (rc < 0) {
                throw new ErrnoException("close fd " + fd, -rc);
            }
        }
    }

    /**
     * {@code eventfd(0, flags | EFD_CLOEXEC)}: a counter another thread adds to ({@link #eventfdAdd}) to wake the one
     * waiting on it. {@code flags} may add {@code EFD_NONBLOCK} (= {@link #O_NONBLOCK}).
     */
    public static int eventfd(int flags) throws ErrnoException {
        requireAvailable();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            int fd = (int) result(state, () -> (int) EVENTFD.invokeExact(state, 0, flags | O_CLOEXEC));
            if (fd < 0) {
                throw new ErrnoException("eventfd", -fd);
            }
            return fd;
        }
    }

    /**
     * Adds 1 to eventfd {@code fd}. It never blocks (the counter cannot approach its limit), so a virtual thread may
     * call it, and it allocates nothing: wake-up paths call it per request.
     */
    public static void eventfdAdd(int fd) {
        try {
            long n = (long) WRITE.invokeExact(fd, ONE, 8L);
            if (n != 8) {
                throw new IllegalStateException("write to eventfd " + fd + " returned " + n);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Binds libc's {@code name}; for {@link Downcalls}, which has checked {@link #unavailable()}. */
    static MethodHandle downcall(String name, FunctionDescriptor function, boolean captureErrno,
            Linker.Option... options) {
        requireAvailable();
        Linker.Option[] all = options;
        if (captureErrno) {
            all = Arrays.copyOf(options, options.length + 1);
            all[options.length] = CAPTURE_ERRNO;
        }
        return downcall(LINKER, name, function, all);
    }

    private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor function,
            Linker.Option... options) {
        return linker.downcallHandle(linker.defaultLookup().findOrThrow(name), function, options);
    }

    /** The reason to give when binding {@code name} threw {@code e}. */
    static String bindFailure(String name, Throwable e) {
        if (e instanceof IllegalCallerException) {
            return "no native access (" + e + "); run the JVM with --enable-native-access";
        }
        return "cannot bind " + name + " (" + e + ")";
    }

    /** Why native calls cannot be made on {@code os} and {@code arch}, or null when they can. */
    static String platformProblem(String os, String arch) {
        if (os.toLowerCase(Locale.ROOT).contains("linux") && oDirect(arch) != 0) {
            return null;
        }
        return "native calls need Linux on x86_64 or aarch64; this is " + os + " on " + arch;
    }

    /** O_DIRECT on {@code arch} (it differs between the architectures); 0 on any but x86_64 and aarch64. */
    static int oDirect(String arch) {
        return switch (arch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> 0x4000;
            case "aarch64", "arm64" -> 0x10000;
            default -> 0;
        };
    }

    private static void requireAvailable() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException("native calls are unavailable: " + UNAVAILABLE);
        }
    }
}
