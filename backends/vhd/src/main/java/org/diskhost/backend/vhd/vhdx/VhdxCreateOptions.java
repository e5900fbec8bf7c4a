package org.diskhost.backend.vhd.vhdx;

/**
 * How to create a VHDX image.
 *
 * @param virtualSize bytes of the virtual disk: a positive multiple of {@code logicalSectorSize}, at most 64 TiB
 *     (a differencing image ignores it and takes its parent's)
 * @param blockSize payload block size: a power of two from 1 MiB to 256 MiB
 * @param logicalSectorSize 512 or 4096 (a differencing image takes its parent's)
 * @param physicalSectorSize 512 or 4096 (a differencing image takes its parent's)
 */
public record VhdxCreateOptions(long virtualSize, int blockSize, int logicalSectorSize, int physicalSectorSize) {
    /** The default block size, as qemu-img uses for images of up to 1 TiB. */
    public static final int DEFAULT_BLOCK_SIZE = 32 << 20;

    /**
     * Checks every value.
     *
     * @throws IllegalArgumentException naming the value at fault
     */
    public VhdxCreateOptions {
        VhdxMetadata.checkGeometry(blockSize, logicalSectorSize, physicalSectorSize, virtualSize);
    }

    /** A virtual size with the defaults: 32 MiB blocks, 512-byte logical and 4096-byte physical sectors. */
    public static VhdxCreateOptions of(long virtualSize) {
        return new VhdxCreateOptions(virtualSize, DEFAULT_BLOCK_SIZE, 512, 4096);
    }

    public VhdxCreateOptions withBlockSize(int size) {
        return new VhdxCreateOptions(virtualSize, size, logicalSectorSize, physicalSectorSize);
    }

    /** These options with another logical sector size (the physical one is raised to it if smaller). */
    public VhdxCreateOptions withLogicalSectorSize(int size) {
        return new VhdxCreateOptions(virtualSize, blockSize, size, Math.max(size, physicalSectorSize));
    }

    public VhdxCreateOptions withPhysicalSectorSize(int size) {
        return new VhdxCreateOptions(virtualSize, blockSize, logicalSectorSize, size);
    }
}
