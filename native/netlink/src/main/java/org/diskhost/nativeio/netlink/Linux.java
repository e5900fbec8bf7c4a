package org.diskhost.nativeio.netlink;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.diskhost.nativeio.libc.Downcalls;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.Libc;

/**
 * The libc calls of this package (sockets, poll, eventfd), bound through FFM ({@link Downcalls}): the one class here
 * that binds native functions. Calls that can fail return the kernel's convention, the result or {@code -errno}, read
 * from a call-state segment the caller owns ({@link Libc#callState}) so that the listener thread allocates nothing per
 * call. Descriptors are closed with {@link Libc#close}.
 */
final class Linux {
    private static final ValueLayout I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout I64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final Downcalls DOWNCALLS = new Downcalls();
    private static final MethodHandle SOCKET = DOWNCALLS.capturingErrno("socket",
            FunctionDescriptor.of(I32, I32, I32, I32));
    private static final MethodHandle BIND = DOWNCALLS.capturingErrno("bind",
            FunctionDescriptor.of(I32, I32, PTR, I32));
    private static final MethodHandle SETSOCKOPT = DOWNCALLS.capturingErrno("setsockopt",
            FunctionDescriptor.of(I32, I32, I32, I32, PTR, I32));
    private static final MethodHandle RECVFROM = DOWNCALLS.capturingErrno("recvfrom",
            FunctionDescriptor.of(I64, I32, PTR, I64, I32, PTR, PTR));
    private static final MethodHandle POLL = DOWNCALLS.capturingErrno("poll",
            FunctionDescriptor.of(I32, PTR, I64, I32));
    /**
     * Why the functions could not be bound (another platform, no native access: {@link Libc#unavailable()}), or null
     * when they are; after the handles, which it reports on.
     */
    static final String UNBOUND = DOWNCALLS.failure().orElse(null);

    private Linux() {
    }

    /** {@code socket(domain, type, protocol)}: the descriptor or -errno. */
    static int socket(MemorySegment state, int domain, int type, int protocol) {
        return (int) Libc.result(state, () -> (int) SOCKET.invokeExact(state, domain, type, protocol));
    }

    /** {@code bind(fd, address, address.byteSize())}: 0 or -errno. */
    static int bind(MemorySegment state, int fd, MemorySegment address) {
        return (int) Libc.result(state, () -> (int) BIND.invokeExact(state, fd, address, (int) address.byteSize()));
    }

    /** {@code setsockopt(fd, level, option, &value, 4)} with an int value: 0 or -errno. */
    static int setsockopt(MemorySegment state, int fd, int level, int option, MemorySegment intValue) {
        return (int) Libc.result(state, () -> (int) SETSOCKOPT.invokeExact(state, fd, level, option, intValue, 4));
    }

    /**
     * {@code recvfrom(fd, buffer, buffer.byteSize(), flags, from, fromLength)}: the datagram's length (its full length
     * with MSG_TRUNC, even where it did not fit) or -errno. No lambda: this is the listener's hot path.
     */
    static long recvfrom(MemorySegment state, int fd, MemorySegment buffer, int flags, MemorySegment from,
            MemorySegment fromLength) {
        long rc;
        try {
            rc = (long) RECVFROM.invokeExact(state, fd, buffer, buffer.byteSize(), flags, from, fromLength);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return rc < 0 ? -Libc.errno(state) : rc;
    }

    /** {@code poll(fds, count, timeoutMillis)}: the number of descriptors with events, or -errno. */
    static int poll(MemorySegment state, MemorySegment fds, int count, int timeoutMillis) {
        int rc;
        try {
            rc = (int) POLL.invokeExact(state, fds, (long) count, timeoutMillis);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return rc < 0 ? -Libc.errno(state) : rc;
    }

    /** The C library's text for {@code errno} and its number, as in "Permission denied (errno 13)". */
    static String describe(int errno) {
        return Errno.describe(errno) + " (errno " + errno + ")";
    }
}
