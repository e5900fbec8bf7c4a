package org.diskhost.backend.vhd.vhdx;

/**
 * The block allocation table's layout and entry encoding. Payload block entries and sector bitmap entries are
 * interleaved: after every {@link #chunkRatio()} payload entries comes the entry of the sector bitmap block that
 * covers them (a chunk: 2^23 logical sectors).
 *
 * @param virtualSize bytes of the virtual disk
 * @param blockSize payload block size
 * @param logicalSectorSize bytes per logical sector
 * @param hasParent a differencing image, whose BAT also holds the last chunk's bitmap entry
 */
record Bat(long virtualSize, int blockSize, int logicalSectorSize, boolean hasParent) {
    /** Sector bitmap entry states. */
    static final int SB_BLOCK_NOT_PRESENT = 0;
    static final int SB_BLOCK_PRESENT = 6;
    /** Bytes of a sector bitmap block. */
    static final int BITMAP_BLOCK = 1 << 20;
    private static final long SECTORS_PER_CHUNK = 1L << 23;

    /** The state of a payload block entry. */
    enum PayloadState {
        NOT_PRESENT(0), UNDEFINED(1), ZERO(2), UNMAPPED(3), FULLY_PRESENT(6), PARTIALLY_PRESENT(7);

        final int code;

        PayloadState(int code) {
            this.code = code;
        }

        /** The state of a code, or null for the reserved code 4. Code 5 is UNMAPPED in the 0.95 draft. */
        static PayloadState of(int code) {
            return switch (code) {
                case 0 -> NOT_PRESENT;
                case 1 -> UNDEFINED;
                case 2 -> ZERO;
                case 3, 5 -> UNMAPPED;
                case 6 -> FULLY_PRESENT;
                case 7 -> PARTIALLY_PRESENT;
                default -> null;
            };
        }

        boolean allocated() {
            return this == FULLY_PRESENT || this == PARTIALLY_PRESENT;
        }
    }

    /** Payload blocks per chunk (per sector bitmap block). */
    long chunkRatio() {
        return SECTORS_PER_CHUNK * logicalSectorSize / blockSize;
    }

    long dataBlocks() {
        return ceilDiv(virtualSize, blockSize);
    }

    long bitmapBlocks() {
        return ceilDiv(dataBlocks(), chunkRatio());
    }

    /** Entries in the table: a dynamic table ends with the last payload entry, a differencing one with a bitmap's. */
    long totalEntries() {
        long data = dataBlocks();
        return hasParent ? bitmapBlocks() * (chunkRatio() + 1) : data + (data - 1) / chunkRatio();
    }

    int payloadIndex(long block) {
        return (int) (block + block / chunkRatio());
    }

    int bitmapIndex(long chunk) {
        return (int) (chunk * (chunkRatio() + 1) + chunkRatio());
    }

    /** Whether entry {@code index} is a sector bitmap entry. */
    boolean isBitmapIndex(long index) {
        return index % (chunkRatio() + 1) == chunkRatio();
    }

    /** Logical sectors per payload block. */
    int sectorsPerBlock() {
        return blockSize / logicalSectorSize;
    }

    static int state(long entry) {
        return (int) (entry & 7);
    }

    /** The file offset an entry points at (its FileOffsetMB field, bits 20 to 63, in bytes). */
    static long fileOffset(long entry) {
        return (entry >>> 20) << 20;
    }

    static long entry(int state, long fileOffset) {
        return fileOffset & ~((1L << 20) - 1) | state;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
