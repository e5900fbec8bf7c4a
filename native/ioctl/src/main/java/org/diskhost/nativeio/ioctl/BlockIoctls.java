package org.diskhost.nativeio.ioctl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * The block-device ioctls of {@code linux/fs.h} (type 0x12) a block backend needs. Each works on a descriptor of a
 * block device; on anything else it fails with {@link Errno#ENOTTY}.
 */
public final class BlockIoctls {
    /** {@code _IO(0x12, 94)}: read-only flag, {@code int *}. */
    public static final long BLKROGET = IoctlRequest.io(0x12, 94);
    /** {@code _IOR(0x12, 114, size_t)}: size in bytes, {@code u64 *}. */
    public static final long BLKGETSIZE64 = IoctlRequest.ior(0x12, 114, 8);
    /** {@code _IO(0x12, 104)}: logical block size in bytes, {@code int *}. */
    public static final long BLKSSZGET = IoctlRequest.io(0x12, 104);
    /** {@code _IO(0x12, 123)}: physical block size in bytes, {@code unsigned int *}. */
    public static final long BLKPBSZGET = IoctlRequest.io(0x12, 123);
    /** {@code _IO(0x12, 119)}: discard a byte range, {@code u64[2] = {start, length}}. */
    public static final long BLKDISCARD = IoctlRequest.io(0x12, 119);
    /** {@code _IO(0x12, 127)}: write zeroes to a byte range, {@code u64[2] = {start, length}}. */
    public static final long BLKZEROOUT = IoctlRequest.io(0x12, 127);

    private BlockIoctls() {
    }

    /** The device's size in bytes (BLKGETSIZE64). */
    public static long sizeBytes(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
            Ioctl.call(fd, BLKGETSIZE64, out, "BLKGETSIZE64 fd " + fd);
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** The logical block size in bytes (BLKSSZGET): the smallest unit of I/O, 512 or 4096 in practice. */
    public static int logicalBlockSize(int fd) throws ErrnoException {
        return intQuery(fd, BLKSSZGET, "BLKSSZGET");
    }

    /** The physical block size in bytes (BLKPBSZGET): the unit the device writes without read-modify-write. */
    public static int physicalBlockSize(int fd) throws ErrnoException {
        return intQuery(fd, BLKPBSZGET, "BLKPBSZGET");
    }

    /** Whether the device is read-only (BLKROGET), for example a loop device attached with {@code -r}. */
    public static boolean readOnly(int fd) throws ErrnoException {
        return intQuery(fd, BLKROGET, "BLKROGET") != 0;
    }

    /**
     * Discards {@code length} bytes at byte {@code offset} (BLKDISCARD): afterwards the range reads as the device
     * defines (a loop device punches a hole in its backing file, which reads as zeroes). Waits for the discard.
     *
     * @throws ErrnoException {@link Errno#EBADF} when {@code fd} is not open for writing, {@link Errno#EINVAL} for
     *                        a range that is not aligned to the logical block size or ends past the device,
     *                        {@link Errno#EOPNOTSUPP} when the device cannot discard, {@link Errno#EPERM} on a
     *                        read-only device, {@link Errno#EBUSY} when another holder claimed the device
     *                        exclusively (a mounted file system)
     */
    public static void discard(int fd, long offset, long length) throws ErrnoException {
        range(fd, BLKDISCARD, "BLKDISCARD", offset, length);
    }

    /**
     * Writes zeroes to {@code length} bytes at byte {@code offset} (BLKZEROOUT), by the device's fastest means (an
     * unmap that reads zeroes, a Write Zeroes command, or plain writes). Errors as {@link #discard}, except that
     * every device supports it.
     */
    public static void zeroOut(int fd, long offset, long length) throws ErrnoException {
        range(fd, BLKZEROOUT, "BLKZEROOUT", offset, length);
    }

    private static void range(int fd, long request, String name, long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(ValueLayout.JAVA_LONG, 2);
            range.setAtIndex(ValueLayout.JAVA_LONG, 0, offset);
            range.setAtIndex(ValueLayout.JAVA_LONG, 1, length);
            Ioctl.call(fd, request, range, name + " fd " + fd + " bytes " + offset + "+" + length);
        }
    }

    private static int intQuery(int fd, long request, String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            Ioctl.call(fd, request, out, name + " fd " + fd);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }
}
