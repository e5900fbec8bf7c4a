package org.diskhost.nativeio.netlink;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The layouts and constants against the kernel's uapi headers ({@code linux/netlink.h}, {@code linux/socket.h},
 * {@code asm-generic/socket.h}, {@code asm-generic/poll.h}, {@code asm-generic/errno*.h}; stable ABI).
 */
class NetlinkLayoutsTest {
    @Test
    void structSizes() {
        assertEquals(12, NetlinkLayouts.SOCKADDR_NL.byteSize(), "sockaddr_nl");
        assertEquals(8, NetlinkLayouts.POLLFD.byteSize(), "pollfd");
    }

    @Test
    void fields() {
        assertEquals(0, NetlinkLayouts.NL_FAMILY);
        assertEquals(2, NetlinkLayouts.SOCKADDR_NL.byteOffset(groupElement("nl_pad")));
        assertEquals(4, NetlinkLayouts.NL_PID);
        assertEquals(8, NetlinkLayouts.NL_GROUPS);
        assertEquals(0, NetlinkLayouts.POLL_FD);
        assertEquals(4, NetlinkLayouts.POLL_EVENTS);
        assertEquals(6, NetlinkLayouts.POLL_REVENTS);
    }

    @Test
    void constants() {
        assertEquals(16, NetlinkLayouts.AF_NETLINK);
        assertEquals(2, NetlinkLayouts.SOCK_DGRAM);
        assertEquals(04000, NetlinkLayouts.SOCK_NONBLOCK);
        assertEquals(02000000, NetlinkLayouts.SOCK_CLOEXEC);
        assertEquals(15, NetlinkLayouts.NETLINK_KOBJECT_UEVENT);
        assertEquals(1, NetlinkLayouts.UEVENT_GROUP_KERNEL);
        assertEquals(1, NetlinkLayouts.SOL_SOCKET);
        assertEquals(8, NetlinkLayouts.SO_RCVBUF);
        assertEquals(33, NetlinkLayouts.SO_RCVBUFFORCE);
        assertEquals(0x40, NetlinkLayouts.MSG_DONTWAIT);
        assertEquals(0x20, NetlinkLayouts.MSG_TRUNC);
        assertEquals(0x1, NetlinkLayouts.POLLIN);
        assertEquals(0x8, NetlinkLayouts.POLLERR);
        assertEquals(0x10, NetlinkLayouts.POLLHUP);
        assertEquals(0x20, NetlinkLayouts.POLLNVAL);
    }
}
