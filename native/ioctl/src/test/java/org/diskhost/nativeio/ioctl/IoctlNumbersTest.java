package org.diskhost.nativeio.ioctl;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;

/**
 * Request numbers, flag values and struct layouts against the kernel's uapi headers (linux/fs.h, linux/pr.h,
 * linux/cdrom.h, linux/nvme_ioctl.h, fcntl.h): the expected values were printed by a C program compiled against
 * Debian 12's linux-libc-dev on x86_64 ({@code printf("%lx", BLKGETSIZE64)}, {@code sizeof}, {@code offsetof}).
 */
class IoctlNumbersTest {
    @Test
    void encoding() {
        assertEquals(0x1268L, IoctlRequest.io(0x12, 104));
        assertEquals(0x80081272L, IoctlRequest.ior(0x12, 114, 8));
        assertEquals(0x401870c8L, IoctlRequest.iow('p', 200, 24));
        assertEquals(0xc0484e41L, IoctlRequest.iowr('N', 0x41, 72));
        // The largest of each part still fits; one more does not.
        assertEquals(0xffffffffL, IoctlRequest.iowr(0xff, 0xff, 0x3fff));
        assertThrows(IllegalArgumentException.class, () -> IoctlRequest.ior(0x12, 1, 0x4000));
        assertThrows(IllegalArgumentException.class, () -> IoctlRequest.io(0x100, 1));
        assertThrows(IllegalArgumentException.class, () -> IoctlRequest.io(1, 256));
        assertThrows(IllegalArgumentException.class, () -> IoctlRequest.io(-1, 1));
    }

    @Test
    void blockRequests() {
        assertEquals(0x125eL, BlockIoctls.BLKROGET);
        assertEquals(0x80081272L, BlockIoctls.BLKGETSIZE64);
        assertEquals(0x1268L, BlockIoctls.BLKSSZGET);
        assertEquals(0x127bL, BlockIoctls.BLKPBSZGET);
        assertEquals(0x1277L, BlockIoctls.BLKDISCARD);
        assertEquals(0x127fL, BlockIoctls.BLKZEROOUT);
    }

    @Test
    void cdromRequests() {
        assertEquals(0x5329L, CdromIoctls.CDROM_LOCKDOOR);
        assertEquals(0x5309L, CdromIoctls.CDROMEJECT);
    }

    @Test
    void prRequestsAndLayouts() {
        assertEquals(0x401870c8L, PrIoctls.IOC_PR_REGISTER);
        assertEquals(0x401070c9L, PrIoctls.IOC_PR_RESERVE);
        assertEquals(0x401070caL, PrIoctls.IOC_PR_RELEASE);
        assertEquals(0x401870cbL, PrIoctls.IOC_PR_PREEMPT);
        assertEquals(0x401870ccL, PrIoctls.IOC_PR_PREEMPT_ABORT);
        assertEquals(0x401070cdL, PrIoctls.IOC_PR_CLEAR);
        assertEquals(1, PrIoctls.PR_FL_IGNORE_KEY);
        assertEquals(1, PrIoctls.PR_WRITE_EXCLUSIVE);
        assertEquals(6, PrIoctls.PR_EXCLUSIVE_ACCESS_ALL_REGS);

        assertEquals(24, PrIoctls.PR_REGISTRATION.byteSize(), "pr_registration");
        assertEquals(16, PrIoctls.PR_RESERVATION.byteSize(), "pr_reservation");
        assertEquals(24, PrIoctls.PR_PREEMPT.byteSize(), "pr_preempt");
        assertEquals(16, PrIoctls.PR_CLEAR.byteSize(), "pr_clear");
        assertEquals(8, at(PrIoctls.PR_REGISTRATION, "new_key"));
        assertEquals(16, at(PrIoctls.PR_REGISTRATION, "flags"));
        assertEquals(8, at(PrIoctls.PR_RESERVATION, "type"));
        assertEquals(12, at(PrIoctls.PR_RESERVATION, "flags"));
        assertEquals(16, at(PrIoctls.PR_PREEMPT, "type"));
        assertEquals(20, at(PrIoctls.PR_PREEMPT, "flags"));
        assertEquals(8, at(PrIoctls.PR_CLEAR, "flags"));
    }

    @Test
    void nvmeRequestsAndLayout() {
        assertEquals(0x4e40L, NvmePassthrough.NVME_IOCTL_ID);
        assertEquals(0xc0484e41L, NvmePassthrough.NVME_IOCTL_ADMIN_CMD);
        assertEquals(0xc0484e43L, NvmePassthrough.NVME_IOCTL_IO_CMD);

        StructLayout cmd = NvmePassthrough.PASSTHRU_CMD;
        assertEquals(72, cmd.byteSize(), "nvme_passthru_cmd");
        assertEquals(4, at(cmd, "nsid"));
        assertEquals(16, at(cmd, "metadata"));
        assertEquals(24, at(cmd, "addr"));
        assertEquals(32, at(cmd, "metadata_len"));
        assertEquals(36, at(cmd, "data_len"));
        assertEquals(40, at(cmd, "cdw10"));
        assertEquals(60, at(cmd, "cdw15"));
        assertEquals(64, at(cmd, "timeout_ms"));
        assertEquals(68, at(cmd, "result"));
    }

    @Test
    void openFlags() {
        // Linux on x86_64 (this machine and CI); aarch64's O_DIRECT is 0x10000.
        assertEquals(0, Ioctl.O_RDONLY);
        assertEquals(2, Ioctl.O_RDWR);
        assertEquals(0x80, Ioctl.O_EXCL);
        String arch = System.getProperty("os.arch");
        assertEquals(arch.equals("aarch64") ? 0x10000 : 0x4000, Ioctl.O_DIRECT, arch);
    }

    private static long at(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }
}
