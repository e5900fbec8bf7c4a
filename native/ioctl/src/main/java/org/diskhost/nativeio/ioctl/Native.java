package org.diskhost.nativeio.ioctl;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.diskhost.nativeio.libc.Downcalls;
import org.diskhost.nativeio.libc.Libc;

/**
 * libc's {@code ioctl}, bound through FFM ({@link Downcalls}): the one class here that binds a native function.
 * Each call returns the kernel's convention, the result or {@code -errno}, retried on EINTR.
 */
final class Native {
    private static final Downcalls DOWNCALLS = new Downcalls();
    // ioctl(2) is variadic: the variadic argument must be passed as the variadic calling convention wants it (a full
    // register), so there is one handle for a pointer and one for a long. The request is an unsigned long in glibc's
    // prototype: a long here, never a sign-extended int.
    private static final MethodHandle IOCTL_POINTER = DOWNCALLS.capturingErrno("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = DOWNCALLS.capturingErrno("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG), Linker.Option.firstVariadicArg(2));
    /** Why ioctls cannot be made here, or null when they can; after the handles, which it reports on. */
    static final String UNBOUND = DOWNCALLS.failure().orElse(null);

    private Native() {
    }

    /** {@code ioctl(fd, request, arg)} with a pointer: the result or -errno. */
    static int ioctl(int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return (int) Libc.retried(state, () -> (int) IOCTL_POINTER.invokeExact(state, fd, request, arg));
        }
    }

    /** {@code ioctl(fd, request, arg)} with an integer: the result or -errno. */
    static int ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return (int) Libc.retried(state, () -> (int) IOCTL_LONG.invokeExact(state, fd, request, arg));
        }
    }

    private static MemorySegment state(Arena arena) {
        if (UNBOUND != null) {
            throw new IllegalStateException("native calls are unavailable: " + UNBOUND);
        }
        return Libc.callState(arena);
    }
}
