package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

import org.diskhost.nativeio.ioctl.BlockIoctls;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * What the open device is: its geometry as the kernel reports it (sysfs {@code /sys/dev/block/MAJ:MIN/}, with the
 * block ioctls where sysfs is not mounted, as in some containers), or the reference's fixed values for a regular
 * file. Validated as the reference validates: power-of-two sector sizes of at least 512, a size in whole logical
 * sectors, a discard granularity in whole logical sectors.
 *
 * @param kind a block device or a regular file
 * @param major the device's major number (0 for a regular file)
 * @param minor the device's minor number (0 for a regular file)
 * @param logicalSectorSize {@code queue/logical_block_size}, 512 for a regular file
 * @param physicalSectorSize {@code queue/physical_block_size} ({@code st_blksize} for a regular file), at least the
 *        logical size
 * @param sizeBytes the size at open
 * @param discardGranularity {@code queue/discard_granularity} in bytes, 0 when the device cannot discard
 * @param fua {@code queue/fua}: the device takes FUA writes itself (otherwise the kernel follows an RWF_DSYNC write
 *        with a cache flush, so FUA writes are durable either way)
 * @param namespaceId the NVMe namespace ({@code nsid} present in sysfs)
 * @param sysfs where the kernel describes the device, when it does
 */
record Device(Kind kind, int major, int minor, int logicalSectorSize, int physicalSectorSize, long sizeBytes,
        long discardGranularity, boolean fua, OptionalInt namespaceId, Optional<Path> sysfs) {

    enum Kind {
        BLOCK_DEVICE("block device"),
        REGULAR_FILE("regular file");

        final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    /** Where sysfs describes block devices by number; a field so that tests can point elsewhere. */
    static final Path SYS_DEV_BLOCK = Path.of("/sys/dev/block");

    Device {
        if (logicalSectorSize < 512 || Integer.bitCount(logicalSectorSize) != 1) {
            throw new IllegalArgumentException("logical block size " + logicalSectorSize
                    + " is not a power of two of at least 512");
        }
        if (Integer.bitCount(physicalSectorSize) != 1) {
            throw new IllegalArgumentException("physical block size " + physicalSectorSize
                    + " is not a power of two");
        }
        physicalSectorSize = Math.max(physicalSectorSize, logicalSectorSize);
        if (sizeBytes % logicalSectorSize != 0) {
            throw new IllegalArgumentException("size " + sizeBytes + " is not a multiple of the logical block size "
                    + logicalSectorSize);
        }
        if (discardGranularity % logicalSectorSize != 0) {
            throw new IllegalArgumentException("discard granularity " + discardGranularity
                    + " is not a multiple of the logical block size " + logicalSectorSize);
        }
    }

    /** Linux's {@code dev_t} encoding: 12 bits of major and 20 of minor, split across the 64-bit value. */
    static int major(long rdev) {
        return (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
    }

    static int minor(long rdev) {
        return (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
    }

    /** Describes the block device {@code major:minor}, open as {@code fd}. */
    static Device ofBlockDevice(int fd, int major, int minor, Path sysDevBlock) throws IOException {
        Path dir = sysDevBlock.resolve(major + ":" + minor);
        if (!Files.isDirectory(dir)) {
            // No sysfs here: the ioctls know the sizes; discard, FUA and NVMe stay unknown, so unused.
            return new Device(Kind.BLOCK_DEVICE, major, minor, BlockIoctls.logicalBlockSize(fd),
                    BlockIoctls.physicalBlockSize(fd), BlockIoctls.sizeBytes(fd), 0, false, OptionalInt.empty(),
                    Optional.empty());
        }
        // A partition has no queue/ of its own: its disk's is one level up, as is an NVMe namespace's nsid.
        Path disk = Files.isDirectory(dir.resolve("queue")) ? dir : dir.toRealPath().getParent();
        Path queue = disk.resolve("queue");
        OptionalInt nsid = Files.exists(disk.resolve("nsid"))
                ? OptionalInt.of((int) number(disk.resolve("nsid"))) : OptionalInt.empty();
        return new Device(Kind.BLOCK_DEVICE, major, minor, (int) number(queue.resolve("logical_block_size")),
                (int) number(queue.resolve("physical_block_size")), number(dir.resolve("size")) * 512,
                number(queue.resolve("discard_granularity")), number(queue.resolve("fua")) != 0, nsid,
                Optional.of(dir));
    }

    /**
     * Describes a regular file as the reference does: 512-byte sectors, the file system's block as the physical
     * sector, the length at open in whole sectors, and a discard granularity only when {@code canPunchHoles}.
     */
    static Device ofRegularFile(Path path, long length, boolean canPunchHoles) throws IOException {
        int blockSize = (int) Math.min(Files.getFileStore(path).getBlockSize(), 1 << 20);
        int physical = Integer.bitCount(blockSize) == 1 ? blockSize : 4096;
        return new Device(Kind.REGULAR_FILE, 0, 0, 512, physical, length - length % 512,
                canPunchHoles ? Math.max(physical, 512) : 0, false, OptionalInt.empty(), Optional.empty());
    }

    /** The device's size now ({@code BLKGETSIZE64}), for a block device that may have been resized. */
    static long currentSize(int fd) throws ErrnoException {
        return BlockIoctls.sizeBytes(fd);
    }

    String describe() {
        return kind == Kind.REGULAR_FILE ? kind.text : kind.text + " " + major + ":" + minor;
    }

    private static long number(Path file) throws IOException {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (NoSuchFileException e) {
            return 0; // an older kernel without the attribute: the feature is absent
        } catch (NumberFormatException e) {
            throw new IOException("unexpected content in " + file + ": " + e.getMessage());
        }
    }
}
