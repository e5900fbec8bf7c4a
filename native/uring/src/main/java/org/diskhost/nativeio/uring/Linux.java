package org.diskhost.nativeio.uring;

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
 * The libc calls of this package, bound through FFM: the one class here that binds native functions. Calls that can
 * fail return the kernel's convention, the result or {@code -errno}, read from a call-state segment the caller owns
 * (see {@link #callState}) so that the ring thread allocates nothing per call.
 */
@SuppressWarnings("restricted") // binding native functions is this class's job
final class Linux {
    /** Where io_uring can be used at all: the syscall numbers below are those of these two architectures. */
    static final boolean SUPPORTED_PLATFORM;
    static final int SYS_IO_URING_SETUP = 425;
    static final int SYS_IO_URING_ENTER = 426;
    static final int SYS_IO_URING_REGISTER = 427;

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0x40;
    static final int O_CLOEXEC = 0x80000;
    /** O_DIRECT differs between the architectures. */
    static final int O_DIRECT;
    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_SHARED = 0x1;
    private static final int MAP_POPULATE = 0x8000;
    private static final int EFD_CLOEXEC = O_CLOEXEC;

    /** Why the functions could not be bound, or null when they are. */
    static final String UNBOUND;

    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle SETUP;
    private static final MethodHandle ENTER;
    private static final MethodHandle REGISTER;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle LSEEK;
    private static final MethodHandle EVENTFD;
    private static final MethodHandle WRITE;
    private static final MethodHandle STRERROR;
    /** The 8-byte 1 every eventfd wake writes: read-only, so all threads share it. */
    private static final MemorySegment ONE;

    static {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        O_DIRECT = switch (arch) {
            case "amd64", "x86_64" -> 0x4000;
            case "aarch64", "arm64" -> 0x10000;
            default -> 0;
        };
        SUPPORTED_PLATFORM = linux && O_DIRECT != 0;
        String unbound = null;
        StructLayout callState = null;
        VarHandle errno = null;
        MethodHandle setup = null, enter = null, register = null, mmap = null, munmap = null, open = null,
                close = null, lseek = null, eventfd = null, write = null, strerror = null;
        MemorySegment one = null;
        if (!SUPPORTED_PLATFORM) {
            unbound = "io_uring needs Linux on x86_64 or aarch64; this is " + System.getProperty("os.name") + " on "
                    + arch;
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                callState = Linker.Option.captureStateLayout();
                errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option capture = Linker.Option.captureCallState("errno");
                // syscall(2) is variadic: pass every argument as a long (a register each), never a narrower int.
                Linker.Option variadic = Linker.Option.firstVariadicArg(1);
                ValueLayout i32 = ValueLayout.JAVA_INT;
                ValueLayout i64 = ValueLayout.JAVA_LONG;
                ValueLayout ptr = ValueLayout.ADDRESS;
                MemorySegment syscall = libc.findOrThrow("syscall");
                setup = linker.downcallHandle(syscall, FunctionDescriptor.of(i64, i64, i64, ptr), variadic, capture);
                enter = linker.downcallHandle(syscall, FunctionDescriptor.of(i64, i64, i64, i64, i64, i64, ptr, i64),
                        variadic, capture);
                register = linker.downcallHandle(syscall, FunctionDescriptor.of(i64, i64, i64, i64, ptr, i64),
                        variadic, capture);
                mmap = linker.downcallHandle(libc.findOrThrow("mmap"),
                        FunctionDescriptor.of(ptr, ptr, i64, i32, i32, i32, i64), capture);
                munmap = linker.downcallHandle(libc.findOrThrow("munmap"), FunctionDescriptor.of(i32, ptr, i64));
                open = linker.downcallHandle(libc.findOrThrow("open"), FunctionDescriptor.of(i32, ptr, i32, i32),
                        Linker.Option.firstVariadicArg(2), capture);
                close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(i32, i32), capture);
                lseek = linker.downcallHandle(libc.findOrThrow("lseek"), FunctionDescriptor.of(i64, i32, i64, i32),
                        capture);
                eventfd = linker.downcallHandle(libc.findOrThrow("eventfd"), FunctionDescriptor.of(i32, i32, i32),
                        capture);
                write = linker.downcallHandle(libc.findOrThrow("write"), FunctionDescriptor.of(i64, i32, ptr, i64));
                strerror = linker.downcallHandle(libc.findOrThrow("strerror"), FunctionDescriptor.of(ptr, i32));
                one = Arena.global().allocateFrom(ValueLayout.JAVA_LONG, 1L);
            } catch (RuntimeException | LinkageError e) {
                // IllegalCallerException when native access is denied to this code's module.
                unbound = "no native access (" + e + "); run the JVM with --enable-native-access";
            }
        }
        UNBOUND = unbound;
        CALL_STATE = callState;
        ERRNO = errno;
        SETUP = setup;
        ENTER = enter;
        REGISTER = register;
        MMAP = mmap;
        MUNMAP = munmap;
        OPEN = open;
        CLOSE = close;
        LSEEK = lseek;
        EVENTFD = eventfd;
        WRITE = write;
        STRERROR = strerror;
        ONE = one;
    }

    private Linux() {
    }

    /** A segment that receives the errno of the calls it is passed to; one per thread that makes calls. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** {@code io_uring_setup(entries, params)}: the ring's descriptor or -errno. */
    static int ioUringSetup(MemorySegment state, int entries, MemorySegment params) {
        return (int) result(state, () -> (long) SETUP.invokeExact(state, (long) SYS_IO_URING_SETUP,
                (long) entries, params));
    }

    /** {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}: SQEs consumed, or -errno. */
    static int ioUringEnter(MemorySegment state, int fd, int toSubmit, int minComplete, int flags) {
        long rc; // no lambda: this is the ring thread's hot path
        try {
            rc = (long) ENTER.invokeExact(state, (long) SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
                    (long) minComplete, (long) flags, MemorySegment.NULL, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : (int) rc;
    }

    /** {@code io_uring_register(fd, opcode, arg, count)}: 0 or more, or -errno. */
    static int ioUringRegister(MemorySegment state, int fd, int opcode, MemorySegment arg, int count) {
        return (int) result(state, () -> (long) REGISTER.invokeExact(state, (long) SYS_IO_URING_REGISTER, (long) fd,
                (long) opcode, arg, (long) count));
    }

    /** Maps {@code size} bytes of {@code fd} at {@code offset}, shared and read-write. */
    static MemorySegment mmap(MemorySegment state, long size, int fd, long offset) throws UringException {
        MemorySegment at;
        try {
            at = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, size, PROT_READ_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (at.address() == -1L) { // MAP_FAILED
            throw new UringException("mmap of " + size + " bytes at " + offset, errno(state));
        }
        return at.reinterpret(size);
    }

    static void munmap(MemorySegment mapping) {
        try {
            int rc = (int) MUNMAP.invokeExact(mapping, mapping.byteSize());
            assert rc == 0 : "munmap of a mapping this package made";
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open(path, flags | O_CLOEXEC, mode)}, retried on EINTR. */
    static int open(String path, int flags, int mode) throws UringException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            MemorySegment cPath = arena.allocateFrom(path);
            long fd;
            do {
                fd = result(state, () -> (int) OPEN.invokeExact(state, cPath, flags | O_CLOEXEC, mode));
            } while (fd == -Errno.EINTR);
            if (fd < 0) {
                throw new UringException("open " + path, (int) -fd);
            }
            return (int) fd;
        }
    }

    /** Closes {@code fd}; never retried, since Linux releases the descriptor even when it reports EINTR. */
    static void close(int fd) throws UringException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            long rc = result(state, () -> (int) CLOSE.invokeExact(state, fd));
            if (rc < 0) {
                throw new UringException("close fd " + fd, (int) -rc);
            }
        }
    }

    /** {@code lseek(fd, offset, whence)}: the new offset or -errno (-ENXIO past the last data or hole). */
    static long lseek(int fd, long offset, int whence) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            return result(state, () -> (long) LSEEK.invokeExact(state, fd, offset, whence));
        }
    }

    /** A new blocking eventfd (the ring reads it to be woken; see {@link Uring}). */
    static int eventfd() throws UringException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            long fd = result(state, () -> (int) EVENTFD.invokeExact(state, 0, EFD_CLOEXEC));
            if (fd < 0) {
                throw new UringException("eventfd", (int) -fd);
            }
            return (int) fd;
        }
    }

    /**
     * Adds 1 to eventfd {@code fd}. It never blocks (the counter cannot approach its limit), so a virtual thread
     * may call it; it allocates nothing.
     */
    static void eventfdAdd(int fd) {
        try {
            long n = (long) WRITE.invokeExact(fd, ONE, 8L);
            if (n != 8) {
                throw new IllegalStateException("write to eventfd " + fd + " returned " + n);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String strerror(int errno) {
        if (STRERROR == null) {
            return "errno " + errno;
        }
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    @FunctionalInterface
    private interface Call {
        long invoke() throws Throwable;
    }

    /** Runs {@code call}; a negative result becomes -errno. */
    private static long result(MemorySegment state, Call call) {
        long rc;
        try {
            rc = call.invoke();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : rc;
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
