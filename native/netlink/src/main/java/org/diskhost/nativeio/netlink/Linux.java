package org.diskhost.nativeio.netlink;

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
 * (see {@link #callState}) so that the listener thread allocates nothing per call.
 */
@SuppressWarnings("restricted") // binding native functions is this class's job
final class Linux {
    /**
     * Where the constants of {@link NetlinkLayouts} hold: they are the generic ones, the same on x86_64 and aarch64
     * (other architectures, such as mips or sparc, number the socket options differently).
     */
    static final boolean SUPPORTED_PLATFORM;

    /** Why the functions could not be bound, or null when they are. */
    static final String UNBOUND;

    private static final StructLayout CALL_STATE;
    private static final VarHandle ERRNO;
    private static final MethodHandle SOCKET;
    private static final MethodHandle BIND;
    private static final MethodHandle SETSOCKOPT;
    private static final MethodHandle RECVFROM;
    private static final MethodHandle POLL;
    private static final MethodHandle EVENTFD;
    private static final MethodHandle WRITE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;
    /** The 8-byte 1 every eventfd wake writes: read-only, so all threads share it. */
    private static final MemorySegment ONE;

    static {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        SUPPORTED_PLATFORM = linux && switch (arch) {
            case "amd64", "x86_64", "aarch64", "arm64" -> true;
            default -> false;
        };
        String unbound = null;
        StructLayout callState = null;
        VarHandle errno = null;
        MethodHandle socket = null, bind = null, setsockopt = null, recvfrom = null, poll = null, eventfd = null,
                write = null, close = null, strerror = null;
        MemorySegment one = null;
        if (!SUPPORTED_PLATFORM) {
            unbound = "kernel uevents need Linux on x86_64 or aarch64; this is " + System.getProperty("os.name")
                    + " on " + arch;
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
                socket = linker.downcallHandle(libc.findOrThrow("socket"), FunctionDescriptor.of(i32, i32, i32, i32),
                        capture);
                bind = linker.downcallHandle(libc.findOrThrow("bind"), FunctionDescriptor.of(i32, i32, ptr, i32),
                        capture);
                setsockopt = linker.downcallHandle(libc.findOrThrow("setsockopt"),
                        FunctionDescriptor.of(i32, i32, i32, i32, ptr, i32), capture);
                recvfrom = linker.downcallHandle(libc.findOrThrow("recvfrom"),
                        FunctionDescriptor.of(i64, i32, ptr, i64, i32, ptr, ptr), capture);
                poll = linker.downcallHandle(libc.findOrThrow("poll"), FunctionDescriptor.of(i32, ptr, i64, i32),
                        capture);
                eventfd = linker.downcallHandle(libc.findOrThrow("eventfd"), FunctionDescriptor.of(i32, i32, i32),
                        capture);
                write = linker.downcallHandle(libc.findOrThrow("write"), FunctionDescriptor.of(i64, i32, ptr, i64));
                close = linker.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(i32, i32), capture);
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
        SOCKET = socket;
        BIND = bind;
        SETSOCKOPT = setsockopt;
        RECVFROM = recvfrom;
        POLL = poll;
        EVENTFD = eventfd;
        WRITE = write;
        CLOSE = close;
        STRERROR = strerror;
        ONE = one;
    }

    private Linux() {
    }

    /** A segment that receives the errno of the calls it is passed to; one per thread that makes calls. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** {@code socket(domain, type, protocol)}: the descriptor or -errno. */
    static int socket(MemorySegment state, int domain, int type, int protocol) {
        return (int) result(state, () -> (int) SOCKET.invokeExact(state, domain, type, protocol));
    }

    /** {@code bind(fd, address, address.byteSize())}: 0 or -errno. */
    static int bind(MemorySegment state, int fd, MemorySegment address) {
        return (int) result(state, () -> (int) BIND.invokeExact(state, fd, address, (int) address.byteSize()));
    }

    /** {@code setsockopt(fd, level, option, &value, 4)} with an int value: 0 or -errno. */
    static int setsockopt(MemorySegment state, int fd, int level, int option, MemorySegment intValue) {
        return (int) result(state, () -> (int) SETSOCKOPT.invokeExact(state, fd, level, option, intValue, 4));
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
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : rc;
    }

    /** {@code poll(fds, count, timeoutMillis)}: the number of descriptors with events, or -errno. */
    static int poll(MemorySegment state, MemorySegment fds, int count, int timeoutMillis) {
        int rc;
        try {
            rc = (int) POLL.invokeExact(state, fds, (long) count, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return rc < 0 ? -errno(state) : rc;
    }

    /** {@code eventfd(0, flags)}: the descriptor or -errno. */
    static int eventfd(MemorySegment state, int flags) {
        return (int) result(state, () -> (int) EVENTFD.invokeExact(state, 0, flags));
    }

    /** Adds 1 to eventfd {@code fd}; it never blocks (the counter cannot approach its limit) and allocates nothing. */
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

    /** Closes {@code fd}: 0 or -errno; never retried, since Linux releases the descriptor even when it reports EINTR. */
    static int close(MemorySegment state, int fd) {
        return (int) result(state, () -> (int) CLOSE.invokeExact(state, fd));
    }

    /** The C library's text for {@code errno} and its number, as in "Permission denied (errno 13)". */
    static String describe(int errno) {
        String text = "errno " + errno;
        if (STRERROR != null) {
            try {
                MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
                return message.reinterpret(256).getString(0) + " (" + text + ")";
            } catch (Throwable t) {
                // fall through to the number alone
            }
        }
        return text;
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
