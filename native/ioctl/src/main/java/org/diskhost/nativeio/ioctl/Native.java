package org.diskhost.nativeio.ioctl;

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
 * The libc functions of this package ({@code open}, {@code close}, {@code ioctl}, {@code strerror}), bound through
 * FFM: the one class here that binds native functions. Each call returns the kernel's convention, the result or
 * {@code -errno}, with errno captured by the linker ({@code captureCallState}) so that nothing the JVM does between
 * the call and the read can overwrite it.
 */
@SuppressWarnings("restricted") // binding native functions is this class's job
final class Native {
    /** O_DIRECT differs between the architectures; 0 on any other. */
    static final int O_DIRECT;
    static final int O_CLOEXEC = 0x80000;

    /** Why the functions could not be bound, or null when they are. */
    static final String UNBOUND;

    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle IOCTL_POINTER;
    private static final MethodHandle IOCTL_LONG;
    private static final MethodHandle STRERROR;

    static {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        O_DIRECT = switch (arch) {
            case "amd64", "x86_64" -> 0x4000;
            case "aarch64", "arm64" -> 0x10000;
            default -> 0;
        };
        String unbound = null;
        StructLayout callState = null;
        VarHandle errno = null;
        MethodHandle open = null, close = null, ioctlPointer = null, ioctlLong = null, strerror = null;
        if (!linux || O_DIRECT == 0) {
            // The request encoding and flag values here are those of asm-generic, which these two follow.
            unbound = "ioctls need Linux on x86_64 or aarch64; this is " + System.getProperty("os.name") + " on "
                    + arch;
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                callState = Linker.Option.captureStateLayout();
                errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option capture = Linker.Option.captureCallState("errno");
                ValueLayout i32 = ValueLayout.JAVA_INT;
                ValueLayout i64 = ValueLayout.JAVA_LONG;
                ValueLayout ptr = ValueLayout.ADDRESS;
                // open(2) and ioctl(2) are variadic: the variadic argument must be passed as the variadic calling
                // convention wants it (a full register), so ioctl gets one handle for a pointer and one for a long.
                Linker.Option variadic = Linker.Option.firstVariadicArg(2);
                open = linker.downcallHandle(libc.findOrThrow("open"), FunctionDescriptor.of(i32, ptr, i32, i32),
                        variadic, capture);
                close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(i32, i32), capture);
                MemorySegment ioctl = libc.findOrThrow("ioctl");
                // The request is an unsigned long in glibc's prototype: a long here, never a sign-extended int.
                ioctlPointer = linker.downcallHandle(ioctl, FunctionDescriptor.of(i32, i32, i64, ptr), variadic,
                        capture);
                ioctlLong = linker.downcallHandle(ioctl, FunctionDescriptor.of(i32, i32, i64, i64), variadic,
                        capture);
                strerror = linker.downcallHandle(libc.findOrThrow("strerror"), FunctionDescriptor.of(ptr, i32));
            } catch (RuntimeException | LinkageError e) {
                // IllegalCallerException when native access is denied to this code's module.
                unbound = "no native access (" + e + "); run the JVM with --enable-native-access";
            }
        }
        UNBOUND = unbound;
        CALL_STATE = callState;
        ERRNO = errno;
        OPEN = open;
        CLOSE = close;
        IOCTL_POINTER = ioctlPointer;
        IOCTL_LONG = ioctlLong;
        STRERROR = strerror;
    }

    private Native() {
    }

    /** {@code open(path, flags, 0)}: the descriptor or -errno. */
    static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment cPath = arena.allocateFrom(path);
            return result(state, () -> (int) OPEN.invokeExact(state, cPath, flags, 0));
        }
    }

    /** {@code close(fd)}: 0 or -errno. */
    static int close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return result(state, () -> (int) CLOSE.invokeExact(state, fd));
        }
    }

    /** {@code ioctl(fd, request, arg)} with a pointer: the result or -errno. */
    static int ioctl(int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return result(state, () -> (int) IOCTL_POINTER.invokeExact(state, fd, request, arg));
        }
    }

    /** {@code ioctl(fd, request, arg)} with an integer: the result or -errno. */
    static int ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return result(state, () -> (int) IOCTL_LONG.invokeExact(state, fd, request, arg));
        }
    }

    /** The C library's text for {@code errno}, or "errno N" where it cannot be asked. */
    static String strerror(int errno) {
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

    private static MemorySegment state(Arena arena) {
        if (UNBOUND != null) {
            throw new IllegalStateException("native calls are unavailable: " + UNBOUND);
        }
        return arena.allocate(CALL_STATE);
    }

    @FunctionalInterface
    private interface Call {
        int invoke() throws Throwable;
    }

    /** Runs {@code call}; -1 becomes -errno. */
    private static int result(MemorySegment state, Call call) {
        int rc;
        try {
            rc = call.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return rc < 0 ? -(int) ERRNO.get(state, 0L) : rc;
    }
}
