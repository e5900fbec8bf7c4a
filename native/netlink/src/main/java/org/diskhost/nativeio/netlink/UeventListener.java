package org.diskhost.nativeio.netlink;

import static org.diskhost.nativeio.libc.Errno.EACCES;
import static org.diskhost.nativeio.libc.Errno.EAFNOSUPPORT;
import static org.diskhost.nativeio.libc.Errno.EAGAIN;
import static org.diskhost.nativeio.libc.Errno.EINTR;
import static org.diskhost.nativeio.libc.Errno.ENOBUFS;
import static org.diskhost.nativeio.libc.Errno.EPERM;
import static org.diskhost.nativeio.libc.Errno.EPROTONOSUPPORT;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.AF_NETLINK;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.MSG_DONTWAIT;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.MSG_TRUNC;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.NETLINK_KOBJECT_UEVENT;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLLERR;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLLFD;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLLHUP;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLLIN;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLLNVAL;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLL_EVENTS;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLL_FD;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.POLL_REVENTS;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SOCKADDR_NL;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SOCK_CLOEXEC;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SOCK_DGRAM;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SOCK_NONBLOCK;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SOL_SOCKET;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SO_RCVBUF;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.SO_RCVBUFFORCE;
import static org.diskhost.nativeio.netlink.NetlinkLayouts.UEVENT_GROUP_KERNEL;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;

/**
 * Listens to kernel uevents ({@code NETLINK_KOBJECT_UEVENT}, multicast group 1) on its own platform daemon thread,
 * named "uevent-NAME", and hands each to a handler.
 *
 * <h2>What arrives</h2>
 * Every uevent of the kernel, for every device, in the order the kernel sent them; the handler filters (for example
 * with {@link Uevent#isBlockResize}). Datagrams from any sender but the kernel ({@code sockaddr_nl.nl_pid != 0}: a
 * process with CAP_NET_ADMIN may send to the group) and datagrams that are not uevents are dropped. The receive buffer
 * is {@value #RECEIVE_BUFFER} bytes (beyond {@code net.core.rmem_max} where the process may: SO_RCVBUFFORCE), so a
 * burst is rarely lost; when it is (the kernel reports ENOBUFS, and drops everything it sends to this socket until
 * the listener has emptied its queue), the loss is logged at FINE and listening goes on.
 * Events can therefore be missed: a user polls as well, and treats an event as a hint to look now.
 *
 * <h2>Threads</h2>
 * The thread blocks in {@code poll(2)}, a blocking native call, which would pin a virtual thread's carrier: hence a
 * platform thread. The handler runs on it, one event at a time: it must be short and never block. A handler that
 * throws is logged at WARNING and the next event is handed to it as usual.
 *
 * <h2>Stopping</h2>
 * Closing a socket does not wake a thread blocked in {@code recv} on Linux, so the thread polls two descriptors: the
 * socket and an eventfd that {@link #close()} writes. That stops it at once, and costs nothing while idle, where a
 * receive timeout (SO_RCVTIMEO checked against a flag) would wake every listener a few times a second forever and
 * still delay close by up to one period. The thread closes both descriptors when it leaves; the eventfd is written
 * only under the lock that guards its closing, so a late {@code close()} never writes a closed (or reused) descriptor.
 */
public final class UeventListener implements AutoCloseable {
    /**
     * The system property that decides whether uevents are received: {@code auto} (the default: where the kernel
     * lets this process) or {@code off} (never: {@link #unavailable()} says so and {@link #open} refuses). It is read
     * at each call.
     */
    public static final String PROPERTY = "diskhost.uevents";
    /** The receive buffer asked for, in bytes: some thousand uevents (each up to 2 KiB, usually some 300 bytes). */
    static final int RECEIVE_BUFFER = 4 << 20;
    /** The largest datagram received whole: the kernel builds uevents in 2 KiB (UEVENT_BUFFER_SIZE), with slack. */
    static final int MAX_DATAGRAM = 16 << 10;
    /** How long {@link #close()} waits for a handler that breaks its contract and blocks. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);
    private static final Logger LOG = Logger.getLogger(UeventListener.class.getName());

    private final String name;
    private final Consumer<Uevent> handler;
    private final int socket;
    private final int wakeFd;
    private final Thread thread;
    private volatile boolean closing;
    /** Guards the descriptors against being closed while {@link #close()} writes the eventfd. */
    private final Object fdLock = new Object();
    private boolean fdsOpen = true; // guarded by fdLock
    private final AtomicLong overruns = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();

    private UeventListener(String name, Consumer<Uevent> handler, int socket, int wakeFd) {
        this.name = name;
        this.handler = handler;
        this.socket = socket;
        this.wakeFd = wakeFd;
        this.thread = Thread.ofPlatform().name("uevent-" + name).daemon(true).unstarted(this::run);
    }

    /**
     * Why uevents cannot be received here, for a log: the property {@value #PROPERTY} is {@code off} (or neither
     * {@code auto} nor {@code off}), another platform, no native access, or the kernel refuses the socket or its bind
     * (with the errno's text; containers and other network namespaces may). Empty when they can. The property is read
     * at each call; the probe (a socket opened, bound and closed) is made once per copy of this class.
     *
     * <p>An empty answer is no promise that events arrive: in a network namespace owned by another user namespace the
     * socket binds but the kernel sends nothing to it.
     */
    public static Optional<String> unavailable() {
        return switchedOff(System.getProperty(PROPERTY)).or(() -> Probe.REASON);
    }

    /**
     * Opens the socket, binds it to the kernel's uevent group and starts the thread "uevent-NAME", which hands each
     * uevent to {@code handler} on that thread (short, never blocking).
     *
     * @throws IOException with the errno's text when the socket cannot be opened or bound, or with the reason when
     *                     native access is missing, the platform is another or the property {@value #PROPERTY} is off
     */
    public static UeventListener open(String name, Consumer<Uevent> handler) throws IOException {
        return open(name, handler, RECEIVE_BUFFER);
    }

    /** {@link #open(String, Consumer)} with a receive buffer of {@code receiveBuffer} bytes (tests overrun it). */
    static UeventListener open(String name, Consumer<Uevent> handler, int receiveBuffer) throws IOException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(handler, "handler");
        Optional<String> off = switchedOff(System.getProperty(PROPERTY));
        if (off.isPresent()) {
            throw new IOException("kernel uevents: " + off.get());
        }
        if (Linux.UNBOUND != null) {
            throw new IOException("kernel uevents: " + Linux.UNBOUND);
        }
        int socket = openSocket();
        int wakeFd = -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            setReceiveBuffer(state, socket, receiveBuffer, name);
            wakeFd = Libc.eventfd(Libc.O_NONBLOCK);
            UeventListener listener = new UeventListener(name, handler, socket, wakeFd);
            listener.thread.start();
            return listener;
        } catch (IOException | RuntimeException | Error e) {
            closeQuietly(socket);
            if (wakeFd >= 0) {
                closeQuietly(wakeFd);
            }
            throw e;
        }
    }

    /**
     * Stops the thread and closes the socket: the thread is woken at once (through the eventfd) and this waits for it
     * to end, unless called from the handler itself. Idempotent.
     */
    @Override
    public void close() {
        if (!closing) {
            closing = true;
            synchronized (fdLock) {
                if (fdsOpen) {
                    Libc.eventfdAdd(wakeFd);
                }
            }
        }
        if (Thread.currentThread() == thread) {
            return; // the handler closes its own listener: the loop ends when the handler returns
        }
        try {
            if (!thread.join(STOP_WAIT)) {
                LOG.warning(() -> "uevent listener " + name + ": the handler has not returned for " + STOP_WAIT
                        + "; the thread ends when it does");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Times the kernel reported lost uevents (ENOBUFS: the receive buffer overran). */
    long overruns() {
        return overruns.get();
    }

    /** Datagrams dropped because somebody other than the kernel sent them. */
    long foreign() {
        return foreign.get();
    }

    @Override
    public String toString() {
        return "UeventListener[" + name + (closing ? ", closed" : "") + "]";
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment fds = arena.allocate(POLLFD, 2);
            MemorySegment socketPoll = fds.asSlice(0, POLLFD);
            MemorySegment wakePoll = fds.asSlice(POLLFD.byteSize(), POLLFD);
            socketPoll.set(ValueLayout.JAVA_INT, POLL_FD, socket);
            socketPoll.set(ValueLayout.JAVA_SHORT, POLL_EVENTS, POLLIN);
            wakePoll.set(ValueLayout.JAVA_INT, POLL_FD, wakeFd);
            wakePoll.set(ValueLayout.JAVA_SHORT, POLL_EVENTS, POLLIN);
            MemorySegment buffer = arena.allocate(MAX_DATAGRAM);
            MemorySegment from = arena.allocate(SOCKADDR_NL);
            MemorySegment fromLength = arena.allocate(ValueLayout.JAVA_INT);
            while (!closing) {
                int ready = Linux.poll(state, fds, 2, -1);
                if (ready == -EINTR) {
                    continue;
                }
                if (ready < 0) {
                    LOG.warning("uevent listener " + name + " stops: poll failed: " + Linux.describe(-ready));
                    return;
                }
                if (closing || wakePoll.get(ValueLayout.JAVA_SHORT, POLL_REVENTS) != 0) {
                    return;
                }
                short events = socketPoll.get(ValueLayout.JAVA_SHORT, POLL_REVENTS);
                if ((events & POLLNVAL) != 0) {
                    LOG.warning("uevent listener " + name + " stops: its socket is no longer open");
                    return;
                }
                if ((events & (POLLIN | POLLERR | POLLHUP)) != 0 && !drain(state, buffer, from, fromLength)) {
                    return;
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "uevent listener " + name + " stops", e);
        } finally {
            synchronized (fdLock) {
                fdsOpen = false;
                closeQuietly(socket);
                closeQuietly(wakeFd);
            }
        }
    }

    /**
     * Receives until the socket is empty (or the listener closes), handing each kernel uevent to the handler; false
     * when the socket failed for good.
     */
    private boolean drain(MemorySegment state, MemorySegment buffer, MemorySegment from, MemorySegment fromLength) {
        while (!closing) {
            fromLength.set(ValueLayout.JAVA_INT, 0, (int) SOCKADDR_NL.byteSize());
            long n = Linux.recvfrom(state, socket, buffer, MSG_DONTWAIT | MSG_TRUNC, from, fromLength);
            if (n == -EAGAIN) {
                return true;
            }
            if (n == -EINTR) {
                continue;
            }
            if (n == -ENOBUFS) {
                long count = overruns.incrementAndGet();
                LOG.fine(() -> "uevent listener " + name + ": the receive buffer overran, uevents were lost ("
                        + count + " times so far)");
                continue;
            }
            if (n < 0) {
                LOG.warning("uevent listener " + name + " stops: recvfrom failed: " + Linux.describe((int) -n));
                return false;
            }
            if (from.get(ValueLayout.JAVA_INT, NetlinkLayouts.NL_PID) != 0) {
                foreign.incrementAndGet();
                continue;
            }
            if (n > buffer.byteSize()) {
                LOG.fine(() -> "uevent listener " + name + ": dropped a datagram of " + n + " bytes, larger than "
                        + MAX_DATAGRAM);
                continue;
            }
            Optional<Uevent> event = Uevent.parse(buffer, (int) n);
            if (event.isPresent()) {
                deliver(event.get());
            }
        }
        return true;
    }

    private void deliver(Uevent event) {
        try {
            handler.accept(event);
        } catch (Exception e) { // checked ones too, thrown sneakily
            LOG.log(Level.WARNING, "uevent listener " + name + ": the handler failed on " + event.action() + "@"
                    + event.devpath() + "; listening goes on", e);
        }
    }

    /** The reason the property gives to receive nothing, if it does. */
    private static Optional<String> switchedOff(String setting) {
        String value = setting == null ? "" : setting.strip().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "", "auto" -> Optional.empty();
            case "off" -> Optional.of("switched off by the system property " + PROPERTY + "=off");
            default -> Optional.of("the system property " + PROPERTY + "=" + setting + " is neither auto nor off");
        };
    }

    /** A new non-blocking uevent socket bound to the kernel's group, or an IOException saying why not. */
    private static int openSocket() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            int fd = Linux.socket(state, AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    NETLINK_KOBJECT_UEVENT);
            if (fd < 0) {
                throw new IOException(refusal("socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)", -fd));
            }
            MemorySegment address = arena.allocate(SOCKADDR_NL); // nl_pid 0: the kernel assigns this socket's id
            address.set(ValueLayout.JAVA_SHORT, NetlinkLayouts.NL_FAMILY, (short) AF_NETLINK);
            address.set(ValueLayout.JAVA_INT, NetlinkLayouts.NL_GROUPS, UEVENT_GROUP_KERNEL);
            int rc = Linux.bind(state, fd, address);
            if (rc < 0) {
                closeQuietly(fd);
                throw new IOException(refusal("bind to the kernel's uevent group " + UEVENT_GROUP_KERNEL, -rc));
            }
            return fd;
        }
    }

    /**
     * Asks for a receive buffer of {@code bytes}: beyond {@code net.core.rmem_max} with SO_RCVBUFFORCE where the
     * process has CAP_NET_ADMIN, else up to that limit. Neither is essential, so a refusal is only logged.
     */
    private static void setReceiveBuffer(MemorySegment state, int socket, int bytes, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocateFrom(ValueLayout.JAVA_INT, bytes);
            if (Linux.setsockopt(state, socket, SOL_SOCKET, SO_RCVBUFFORCE, value) == 0) {
                return;
            }
            int rc = Linux.setsockopt(state, socket, SOL_SOCKET, SO_RCVBUF, value);
            if (rc < 0) {
                LOG.fine(() -> "uevent listener " + name + ": SO_RCVBUF " + bytes + " refused: "
                        + Linux.describe(-rc));
            }
        }
    }

    /** What the kernel's {@code errno} for {@code call} means here, for {@link #unavailable()} and exceptions. */
    static String refusal(String call, int errno) {
        String why = switch (errno) {
            case EPERM, EACCES -> "; a seccomp filter or security module forbids it, or this network"
                    + " namespace does not offer kernel uevents";
            case EAFNOSUPPORT, EPROTONOSUPPORT -> "; this kernel or network namespace offers no uevent netlink";
            default -> "";
        };
        return call + " refused: " + Linux.describe(errno) + why;
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            LOG.fine(e::getMessage);
        }
    }

    /** The probe behind {@link #unavailable()}: made once, when first asked. */
    private static final class Probe {
        static final Optional<String> REASON = probe();

        private static Optional<String> probe() {
            if (Linux.UNBOUND != null) {
                return Optional.of(Linux.UNBOUND);
            }
            try {
                closeQuietly(openSocket());
                return Optional.empty();
            } catch (IOException e) {
                return Optional.of(e.getMessage());
            }
        }
    }
}
