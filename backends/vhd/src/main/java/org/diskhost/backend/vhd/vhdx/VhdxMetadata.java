package org.diskhost.backend.vhd.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.diskhost.format.vhd.ImageFormatException;

/**
 * The system metadata items of a VHDX file, decoded and checked.
 *
 * @param blockSize payload block size: a power of two from 1 MiB to 256 MiB
 * @param leaveBlocksAllocated blocks must stay allocated (a fixed VHDX); deallocation does nothing
 * @param hasParent a differencing image; then {@code parentLocator} is present
 * @param virtualSize bytes of the virtual disk, a positive multiple of the logical sector size, at most 64 TiB
 * @param diskId the page 83 data (virtual disk id)
 * @param logicalSectorSize 512 or 4096
 * @param physicalSectorSize 512 or 4096
 * @param parentLocator the parent locator of a differencing image
 */
record VhdxMetadata(int blockSize, boolean leaveBlocksAllocated, boolean hasParent, long virtualSize, UUID diskId,
        int logicalSectorSize, int physicalSectorSize, Optional<ParentLocator> parentLocator) {

    static final UUID FILE_PARAMETERS = UUID.fromString("caa16737-fa36-4d43-b3b6-33f0aa44e76b");
    static final UUID VIRTUAL_DISK_SIZE = UUID.fromString("2fa54224-cd1b-4876-b211-5dbed83bf4b8");
    static final UUID PAGE_83_DATA = UUID.fromString("beca12ab-b2e6-4523-93ef-c309e000c746");
    static final UUID LOGICAL_SECTOR_SIZE = UUID.fromString("8141bf1d-a96f-4709-ba47-f233a8faab5f");
    static final UUID PHYSICAL_SECTOR_SIZE = UUID.fromString("cda348c7-445d-4471-9cc9-e9885251c556");
    static final UUID PARENT_LOCATOR = UUID.fromString("a8d35f2d-b30b-454d-abf7-d3d84834ab0c");

    static final long MIB = 1 << 20;
    static final long MAX_VIRTUAL_SIZE = 64L << 40;
    static final int TABLE_SIZE = 64 * 1024;
    private static final long SIGNATURE = 0x617461646174656dL; // "metadata"
    private static final int MAX_ENTRIES = 2047;
    private static final int IS_VIRTUAL_DISK = 2;
    private static final int IS_REQUIRED = 4;

    /**
     * Checks the values that do not depend on the file: block size, sector sizes, virtual size.
     *
     * @throws IllegalArgumentException naming the value at fault
     */
    VhdxMetadata {
        checkGeometry(blockSize, logicalSectorSize, physicalSectorSize, virtualSize);
        if (hasParent != parentLocator.isPresent()) {
            throw new IllegalArgumentException(hasParent ? "the file has a parent but no parent locator"
                    : "the file has a parent locator but no parent");
        }
    }

    /**
     * Checks a VHDX geometry.
     *
     * @throws IllegalArgumentException naming the value at fault
     */
    static void checkGeometry(int blockSize, int logicalSectorSize, int physicalSectorSize, long virtualSize) {
        if (blockSize < MIB || blockSize > 256 * MIB || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size " + blockSize
                    + " is not a power of two from 1 MiB to 256 MiB");
        }
        if (logicalSectorSize != 512 && logicalSectorSize != 4096) {
            throw new IllegalArgumentException("logical sector size " + logicalSectorSize + " is not 512 or 4096");
        }
        if (physicalSectorSize != 512 && physicalSectorSize != 4096) {
            throw new IllegalArgumentException("physical sector size " + physicalSectorSize
                    + " is not 512 or 4096");
        }
        if (virtualSize <= 0 || virtualSize > MAX_VIRTUAL_SIZE || virtualSize % logicalSectorSize != 0) {
            throw new IllegalArgumentException("virtual size " + virtualSize
                    + " is not a positive multiple of the logical sector size " + logicalSectorSize
                    + " of at most 64 TiB");
        }
    }

    /**
     * Reads and checks the metadata table and items of the region at {@code offset} (length {@code length}).
     *
     * @throws ImageFormatException naming the table or item at fault: a bad signature, an item outside the region, a
     *     missing system item, an unknown item marked required, or an invalid value
     */
    static VhdxMetadata read(ImageChannel ch, long offset, long length) throws IOException {
        String where = ch.path() + ": metadata region at offset " + offset;
        ByteBuffer table = ByteBuffer.allocate(TABLE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(offset, table, "metadata table");
        if (table.getLong(0) != SIGNATURE) {
            throw new ImageFormatException(where + ": the metadata table has no \"metadata\" signature");
        }
        int count = Short.toUnsignedInt(table.getShort(10));
        if (count > MAX_ENTRIES) {
            throw new ImageFormatException(where + ": the metadata table has " + count + " entries, more than "
                    + MAX_ENTRIES);
        }
        Map<UUID, ByteBuffer> items = new HashMap<>();
        for (int i = 0; i < count; i++) {
            int e = 32 + 32 * i;
            UUID id = Guids.read(table, e);
            long itemOffset = Integer.toUnsignedLong(table.getInt(e + 16));
            long itemLength = Integer.toUnsignedLong(table.getInt(e + 20));
            int flags = table.getInt(e + 24);
            boolean isUser = (flags & 1) != 0;
            String item = "metadata item " + id;
            if (itemLength > MIB || (itemLength > 0 && (itemOffset < TABLE_SIZE
                    || itemOffset + itemLength > length))) {
                throw new ImageFormatException(where + ": " + item + " at offset " + itemOffset + " length "
                        + itemLength + " lies outside the region (" + length + " bytes) or overlaps the table");
            }
            if (isUser) {
                if ((flags & IS_REQUIRED) != 0) {
                    throw new ImageFormatException(where + ": user " + item
                            + " is marked required, and this implementation does not know it");
                }
                continue;
            }
            if (!isKnown(id)) {
                if ((flags & IS_REQUIRED) != 0) {
                    throw new ImageFormatException(where + ": unknown " + item
                            + " is marked required, and this implementation does not know it");
                }
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate((int) itemLength).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(offset + itemOffset, data, item);
            if (items.put(id, data.flip()) != null) {
                throw new ImageFormatException(where + ": " + item + " appears twice");
            }
        }
        ByteBuffer params = item(items, FILE_PARAMETERS, 8, where, "file parameters");
        ByteBuffer size = item(items, VIRTUAL_DISK_SIZE, 8, where, "virtual disk size");
        ByteBuffer page83 = item(items, PAGE_83_DATA, 16, where, "page 83 data");
        ByteBuffer logical = item(items, LOGICAL_SECTOR_SIZE, 4, where, "logical sector size");
        ByteBuffer physical = item(items, PHYSICAL_SECTOR_SIZE, 4, where, "physical sector size");
        int flags = params.getInt(4);
        boolean hasParent = (flags & 2) != 0;
        Optional<ParentLocator> locator = Optional.empty();
        ByteBuffer locatorItem = items.get(PARENT_LOCATOR);
        if (locatorItem != null) {
            try {
                locator = Optional.of(ParentLocator.parse(locatorItem));
            } catch (IllegalArgumentException e) {
                throw new ImageFormatException(where + ": the parent locator " + e.getMessage());
            }
        }
        if (!hasParent) {
            // A parent locator in a file that says it has no parent is ignored, as the flag decides.
            locator = Optional.empty();
        }
        try {
            VhdxMetadata m = new VhdxMetadata(params.getInt(0), (flags & 1) != 0, hasParent, size.getLong(0),
                    Guids.read(page83, 0), logical.getInt(0), physical.getInt(0), locator);
            if (m.parentLocator().isPresent()) {
                m.parentLocator().get().linkage("the parent locator");
            }
            return m;
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(where + ": " + e.getMessage());
        }
    }

    private static boolean isKnown(UUID id) {
        return id.equals(FILE_PARAMETERS) || id.equals(VIRTUAL_DISK_SIZE) || id.equals(PAGE_83_DATA)
                || id.equals(LOGICAL_SECTOR_SIZE) || id.equals(PHYSICAL_SECTOR_SIZE) || id.equals(PARENT_LOCATOR);
    }

    private static ByteBuffer item(Map<UUID, ByteBuffer> items, UUID id, int size, String where, String name)
            throws ImageFormatException {
        ByteBuffer b = items.get(id);
        if (b == null) {
            throw new ImageFormatException(where + ": the required " + name + " metadata item is missing");
        }
        if (b.remaining() < size) {
            throw new ImageFormatException(where + ": the " + name + " metadata item is " + b.remaining()
                    + " bytes, it needs " + size);
        }
        return b;
    }

    /**
     * The metadata region's content as this implementation writes it: the table, then the items from 64 KiB on.
     * {@code regionLength} bounds it.
     */
    ByteBuffer encode(int regionLength) {
        ByteBuffer region = ByteBuffer.allocate(regionLength).order(ByteOrder.LITTLE_ENDIAN);
        region.putLong(0, SIGNATURE);
        int[] next = {TABLE_SIZE};
        int[] index = {0};
        ItemWriter put = (id, data, flags) -> {
            int e = 32 + 32 * index[0]++;
            Guids.write(region, e, id);
            region.putInt(e + 16, next[0]);
            region.putInt(e + 20, data.remaining());
            region.putInt(e + 24, flags);
            region.put(next[0], data, data.position(), data.remaining());
            next[0] += (data.remaining() + 7) & ~7;
        };
        ByteBuffer params = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        params.putInt(0, blockSize).putInt(4, (leaveBlocksAllocated ? 1 : 0) | (hasParent ? 2 : 0));
        put.add(FILE_PARAMETERS, params, IS_REQUIRED);
        put.add(VIRTUAL_DISK_SIZE, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, virtualSize),
                IS_VIRTUAL_DISK | IS_REQUIRED);
        ByteBuffer page83 = ByteBuffer.allocate(16);
        Guids.write(page83, 0, diskId);
        put.add(PAGE_83_DATA, page83, IS_VIRTUAL_DISK | IS_REQUIRED);
        put.add(LOGICAL_SECTOR_SIZE, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, logicalSectorSize), IS_VIRTUAL_DISK | IS_REQUIRED);
        put.add(PHYSICAL_SECTOR_SIZE, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0, physicalSectorSize), IS_VIRTUAL_DISK | IS_REQUIRED);
        if (parentLocator.isPresent()) {
            put.add(PARENT_LOCATOR, parentLocator.get().encode(), IS_REQUIRED);
        }
        region.putShort(10, (short) index[0]);
        return region;
    }

    @FunctionalInterface
    private interface ItemWriter {
        void add(UUID id, ByteBuffer data, int flags);
    }
}
