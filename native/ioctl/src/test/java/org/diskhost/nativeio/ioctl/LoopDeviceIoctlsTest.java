package org.diskhost.nativeio.ioctl;

import static org.diskhost.nativeio.ioctl.IoctlTests.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.LoopDevice;
import org.diskhost.nativeio.libc.ErrnoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ioctls against real loop devices, each made by the test over its own backing file and detached after it. The
 * sizes are checked against {@code blockdev} (util-linux) as well as against the values losetup was given.
 */
class LoopDeviceIoctlsTest {
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;
    private final List<LoopDevice> loops = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void nativeCalls() {
        IoctlTests.requireNative();
    }

    @AfterEach
    void detach() throws Exception {
        // Descriptors first: a device still open is detached only lazily (autoclear). Every device is detached even
        // when a close fails.
        try {
            for (int fd : fds) {
                Ioctl.close(fd);
            }
        } finally {
            for (LoopDevice loop : loops) {
                loop.detach();
            }
        }
    }

    private LoopDevice loop(LoopDevice.Builder builder) throws Exception {
        LoopDevice loop = builder.attach();
        loops.add(loop);
        return loop;
    }

    private Path backing(String name) throws IOException {
        Path file = dir.resolve(name);
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return file;
    }

    private int open(LoopDevice loop, int flags) throws ErrnoException {
        int fd = Ioctl.open(loop.path().toString(), flags);
        fds.add(fd);
        return fd;
    }

    private String blockdev(String option, LoopDevice loop) throws Exception {
        return ExternalTools.ok(dir, "blockdev", option, loop.path().toString()).strip();
    }

    @Test
    void sizesOf512ByteSectors() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        int fd = open(loop, Ioctl.O_RDONLY);
        assertEquals(SIZE, BlockIoctls.sizeBytes(fd));
        assertEquals(512, BlockIoctls.logicalBlockSize(fd));
        assertEquals(Long.parseLong(blockdev("--getsize64", loop)), BlockIoctls.sizeBytes(fd));
        assertEquals(Integer.parseInt(blockdev("--getpbsz", loop)), BlockIoctls.physicalBlockSize(fd));
        assertTrue(BlockIoctls.physicalBlockSize(fd) >= 512);
        assertFalse(BlockIoctls.readOnly(fd));
    }

    @Test
    void sizesOf4096ByteSectors() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")).sectorSize(4096));
        int fd = open(loop, Ioctl.O_RDONLY);
        assertEquals(4096, BlockIoctls.logicalBlockSize(fd));
        assertEquals(4096, BlockIoctls.physicalBlockSize(fd));
        assertEquals(SIZE, BlockIoctls.sizeBytes(fd));
    }

    @Test
    void readOnlyDevice() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")).readOnly(true));
        int fd = open(loop, Ioctl.O_RDONLY);
        assertTrue(BlockIoctls.readOnly(fd));
        assertEquals("1", blockdev("--getro", loop));
    }

    @Test
    void resizeFollowsTheBackingFile() throws Exception {
        Path file = backing("a.img");
        LoopDevice loop = loop(LoopDevice.over(file));
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(2 * SIZE);
        }
        loop.resize();
        int fd = open(loop, Ioctl.O_RDONLY);
        assertEquals(2 * SIZE, BlockIoctls.sizeBytes(fd));
    }

    @Test
    void discardReadsZeroesAndPunchesTheBackingFile() throws Exception {
        Path file = backing("a.img");
        LoopDevice loop = loop(LoopDevice.over(file));
        byte[] data = new byte[2 << 20];
        Arrays.fill(data, (byte) 0x5a);
        try (FileChannel device = FileChannel.open(loop.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            device.write(ByteBuffer.wrap(data), 0);
            device.force(true);
            long before = allocatedBytes(file);
            assertTrue(before >= data.length, "written through the device, allocated in the file: " + before);

            int fd = open(loop, Ioctl.O_RDWR);
            long offset = 512 << 10;
            long length = 1 << 20;
            BlockIoctls.discard(fd, offset, length);

            assertArrayEquals(new byte[(int) length], read(device, offset, (int) length), "discarded range");
            assertEquals(0x5a, read(device, offset - 1, 1)[0], "the byte before it");
            assertEquals(0x5a, read(device, offset + length, 1)[0], "the byte after it");
            long freed = before - allocatedBytes(file);
            // Exactly the range, give or take one block of extent metadata the file system may add.
            assertTrue(Math.abs(freed - length) <= 4096, "a hole of " + length + " bytes, freed " + freed);
        }
    }

    @Test
    void discardChecksItsArguments() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        int readOnlyFd = open(loop, Ioctl.O_RDONLY);
        assertErrno(Errnos.EBADF, () -> BlockIoctls.discard(readOnlyFd, 0, 4096));
        int fd = open(loop, Ioctl.O_RDWR);
        assertErrno(Errnos.EINVAL, () -> BlockIoctls.discard(fd, 100, 4096));
        assertErrno(Errnos.EINVAL, () -> BlockIoctls.discard(fd, SIZE - 4096, 8192));
    }

    @Test
    void zeroOut() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        byte[] data = new byte[64 << 10];
        Arrays.fill(data, (byte) 0x33);
        try (FileChannel device = FileChannel.open(loop.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            device.write(ByteBuffer.wrap(data), 0);
            device.force(true);
            int fd = open(loop, Ioctl.O_RDWR);
            BlockIoctls.zeroOut(fd, 4096, 8192);
            byte[] back = read(device, 0, data.length);
            for (int i = 0; i < back.length; i++) {
                assertEquals(i >= 4096 && i < 4096 + 8192 ? 0 : 0x33, back[i], "byte " + i);
            }
        }
    }

    @Test
    void exclusiveOpenExcludesASecond() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        open(loop, Ioctl.O_RDWR | Ioctl.O_EXCL);
        ErrnoException e = assertErrno(Errnos.EBUSY,
                () -> open(loop, Ioctl.O_RDWR | Ioctl.O_EXCL));
        assertTrue(e.getMessage().startsWith("open " + loop.path() + ": "), e.getMessage());
        // A plain open still works: O_EXCL only excludes other exclusive openers (and mounts).
        int plain = open(loop, Ioctl.O_RDONLY);
        assertEquals(SIZE, BlockIoctls.sizeBytes(plain));
    }

    @Test
    void directIoOpen() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")).directIo(true));
        int fd = open(loop, Ioctl.O_RDWR | Ioctl.O_DIRECT);
        assertEquals(SIZE, BlockIoctls.sizeBytes(fd));
    }

    /** Loop devices have no pr_ops: the kernel refuses every PR ioctl with EOPNOTSUPP (Linux 6.18, as root). */
    @Test
    void persistentReservationsAreNotSupported() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        int fd = open(loop, Ioctl.O_RDWR);
        ErrnoException e = assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.register(fd, 0, 0x1234, 0));
        assertEquals("IOC_PR_REGISTER fd " + fd + ": Operation not supported (errno 95)", e.getMessage());
        assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.reserve(fd, 0x1234, PrIoctls.PR_WRITE_EXCLUSIVE, 0));
        assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.release(fd, 0x1234, PrIoctls.PR_WRITE_EXCLUSIVE, 0));
        assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.preempt(fd, 1, 0x1234, PrIoctls.PR_EXCLUSIVE_ACCESS, false, 0));
        assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.preempt(fd, 1, 0x1234, PrIoctls.PR_EXCLUSIVE_ACCESS, true, 0));
        assertErrno(Errnos.EOPNOTSUPP, () -> PrIoctls.clear(fd, 0x1234, 0));
    }

    /** A loop device is no CD-ROM: it refuses the unlock, the first step, with EINVAL (its answer to unknown requests). */
    @Test
    void ejectFailsCleanly() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        int fd = open(loop, Ioctl.O_RDONLY);
        ErrnoException e = assertErrno(Errnos.EINVAL, () -> CdromIoctls.eject(fd));
        assertTrue(e.getMessage().startsWith("CDROM_LOCKDOOR 0 (unlock) fd " + fd + ": "), e.getMessage());
        // The device is still there and answers.
        assertEquals(SIZE, BlockIoctls.sizeBytes(fd));
    }

    /** Nor is it an NVMe namespace. */
    @Test
    void nvmeRequestsAreRefused() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(backing("a.img")));
        int fd = open(loop, Ioctl.O_RDONLY);
        assertErrno(Errnos.EINVAL, () -> NvmePassthrough.namespaceId(fd));
        assertErrno(Errnos.EINVAL, () -> NvmePassthrough.identifyController(fd));
    }

    private static byte[] read(FileChannel channel, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, offset + buffer.position()) < 0) {
                throw new IOException("end of device at " + (offset + buffer.position()));
            }
        }
        return buffer.array();
    }

    /** The bytes the file system allocated to {@code file} (stat's %b blocks of %B bytes). */
    private long allocatedBytes(Path file) throws Exception {
        String[] blocks = ExternalTools.ok(dir, "stat", "--format=%b %B", file.toString()).strip().split(" ");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }
}
