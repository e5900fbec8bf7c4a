package org.diskhost.nativeio.libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Sends one datagram to a Unix datagram socket ({@code AF_UNIX}, {@code SOCK_DGRAM}), which the JDK's channels do not
 * offer: what {@code sd_notify} needs to reach systemd's {@code NOTIFY_SOCKET}.
 */
public final class UnixDatagram {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** No SIGPIPE when the receiver is gone. */
    private static final int MSG_NOSIGNAL = 0x4000;
    /** {@code sizeof(struct sockaddr_un)}: a 2-byte family, then 108 bytes of path. */
    private static final int SOCKADDR_UN = 110;
    private static final int MAX_PATH = SOCKADDR_UN - 2 - 1;

    private static final Downcalls DOWNCALLS = new Downcalls();
    private static final MethodHandle SOCKET = DOWNCALLS.capturingErrno("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle SENDTO = DOWNCALLS.capturingErrno("sendto",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final Optional<String> UNBOUND = DOWNCALLS.failure();

    private UnixDatagram() {
    }

    /** Why datagrams cannot be sent here; empty when they can. */
    public static Optional<String> unavailable() {
        return UNBOUND;
    }

    /**
     * Sends {@code message} as one datagram to the socket at {@code address}: a path, or a name in the abstract
     * namespace written with a leading {@code @} (as {@code NOTIFY_SOCKET} writes it).
     *
     * @throws ErrnoException "send to ADDRESS: ..." with, for example, {@link Errno#ENOENT} (no such socket),
     *         {@link Errno#ECONNREFUSED} (nobody receives on it), {@link Errno#EACCES}, or
     *         {@link Errno#ENAMETOOLONG} for an address longer than 107 bytes
     * @throws IllegalStateException where native calls cannot be made ({@link #unavailable()})
     */
    public static void send(String address, byte[] message) throws ErrnoException {
        if (UNBOUND.isPresent()) {
            throw new IllegalStateException("cannot send datagrams: " + UNBOUND.get());
        }
        byte[] path = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path.length > 0 && path[0] == '@';
        if (path.length == 0 || path.length > MAX_PATH) {
            throw new ErrnoException("send to " + address, Errno.ENAMETOOLONG);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment sockaddr = arena.allocate(SOCKADDR_UN);
            sockaddr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(path, 0, sockaddr, ValueLayout.JAVA_BYTE, 2, path.length);
            if (abstractName) {
                sockaddr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0); // the abstract namespace: a leading NUL, no end
            }
            int length = 2 + path.length + (abstractName ? 0 : 1);
            MemorySegment data = arena.allocate(Math.max(1, message.length));
            MemorySegment.copy(message, 0, data, ValueLayout.JAVA_BYTE, 0, message.length);
            int fd = (int) Libc.result(state,
                    () -> (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            if (fd < 0) {
                throw new ErrnoException("socket for " + address, -fd);
            }
            try {
                long sent = Libc.retried(state, () -> (long) SENDTO.invokeExact(state, fd, data,
                        (long) message.length, MSG_NOSIGNAL, sockaddr, length));
                if (sent < 0) {
                    throw new ErrnoException("send to " + address, (int) -sent);
                }
            } finally {
                Libc.close(fd);
            }
        }
    }
}
