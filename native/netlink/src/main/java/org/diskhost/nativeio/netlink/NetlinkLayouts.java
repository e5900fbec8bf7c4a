package org.diskhost.nativeio.netlink;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * The structures and constants this package passes to the kernel, from the uapi headers {@code linux/netlink.h},
 * {@code linux/socket.h}, {@code asm-generic/socket.h}, {@code asm-generic/poll.h} and {@code linux/eventfd.h} (the
 * generic numbering, the same on x86_64 and aarch64; the error numbers are libc's {@code Errno}). Field offsets are
 * derived from the layouts, never written twice; {@code NetlinkLayoutsTest} checks them against the headers.
 */
final class NetlinkLayouts {
    static final int AF_NETLINK = 16;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_NONBLOCK = 0x800; // O_NONBLOCK
    static final int SOCK_CLOEXEC = 0x80000; // O_CLOEXEC
    static final int NETLINK_KOBJECT_UEVENT = 15;
    /** The multicast group the kernel sends its uevents to (udev re-sends its own to group 2). */
    static final int UEVENT_GROUP_KERNEL = 1;

    static final int SOL_SOCKET = 1;
    static final int SO_RCVBUF = 8;
    /** SO_RCVBUF beyond {@code net.core.rmem_max}; needs CAP_NET_ADMIN. */
    static final int SO_RCVBUFFORCE = 33;

    static final int MSG_DONTWAIT = 0x40;
    /** Makes recvfrom return a datagram's full length even when the buffer was too small for it. */
    static final int MSG_TRUNC = 0x20;

    static final short POLLIN = 0x1;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;


    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;

    /** struct sockaddr_nl (12 bytes). */
    static final StructLayout SOCKADDR_NL = MemoryLayout.structLayout(
            U16.withName("nl_family"), U16.withName("nl_pad"), U32.withName("nl_pid"), U32.withName("nl_groups"))
            .withName("sockaddr_nl");

    /** struct pollfd (8 bytes). */
    static final StructLayout POLLFD = MemoryLayout.structLayout(
            U32.withName("fd"), U16.withName("events"), U16.withName("revents")).withName("pollfd");

    static final long NL_FAMILY = SOCKADDR_NL.byteOffset(groupElement("nl_family"));
    static final long NL_PID = SOCKADDR_NL.byteOffset(groupElement("nl_pid"));
    static final long NL_GROUPS = SOCKADDR_NL.byteOffset(groupElement("nl_groups"));
    static final long POLL_FD = POLLFD.byteOffset(groupElement("fd"));
    static final long POLL_EVENTS = POLLFD.byteOffset(groupElement("events"));
    static final long POLL_REVENTS = POLLFD.byteOffset(groupElement("revents"));

    private NetlinkLayouts() {
    }
}
