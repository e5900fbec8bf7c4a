package org.diskhost.backend.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.Guids;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * The 1024-byte dynamic disk header of a dynamic or differencing VHD (specification: "Dynamic Disk Header Format"),
 * at the footer's data offset. Integers are big-endian.
 *
 * @param tableOffset the absolute byte offset of the block allocation table (BAT)
 * @param maxTableEntries the number of BAT entries: blocks the disk can have
 * @param blockSize the data bytes of a block: a power of two (2 MiB by default)
 * @param parentUniqueId a differencing disk's parent's footer unique id (zero otherwise)
 * @param parentTimestamp the parent's footer timestamp when the child was created
 * @param parentName the parent's file name (UTF-16BE in the file, up to 256 characters)
 * @param locators the eight parent locator entries, empty ones included
 */
record DynamicHeader(long tableOffset, int maxTableEntries, int blockSize, UUID parentUniqueId, long parentTimestamp,
        String parentName, List<ParentLocator> locators) {

    static final int SIZE = 1024;
    static final String COOKIE = "cxsparse";
    static final int VERSION = 0x0001_0000;
    static final int DEFAULT_BLOCK_SIZE = 2 << 20;
    /** Smallest block: one bitmap byte's worth of sectors. */
    static final int MIN_BLOCK_SIZE = 4096;
    /** Largest block diskhost accepts: its bitmap and buffers stay small. */
    static final int MAX_BLOCK_SIZE = 256 << 20;
    static final int LOCATORS = 8;
    private static final int CHECKSUM_OFFSET = 36;
    private static final int NAME_OFFSET = 64;
    private static final int NAME_BYTES = 512;
    private static final int LOCATOR_OFFSET = 576;
    private static final int LOCATOR_SIZE = 24;

    DynamicHeader {
        locators = List.copyOf(locators);
        if (locators.size() != LOCATORS) {
            throw new IllegalArgumentException("a dynamic header has 8 locator entries, not " + locators.size());
        }
    }

    /**
     * One parent locator entry: where one platform's form of the parent's path is stored.
     *
     * @param platformCode {@link Platform#code} or another code (ignored)
     * @param dataSpace the space reserved for the path: bytes, as Windows and qemu write it (the specification says
     *        sectors)
     * @param dataLength the path's length in bytes
     * @param dataOffset the absolute byte offset of the path
     */
    record ParentLocator(int platformCode, int dataSpace, int dataLength, long dataOffset) {
        static final ParentLocator NONE = new ParentLocator(0, 0, 0, 0);

        boolean isEmpty() {
            return platformCode == 0;
        }
    }

    /** The locator platforms diskhost reads and writes. */
    enum Platform {
        /** A path relative to the child's directory, UTF-16LE ("W2ru"). */
        RELATIVE(0x5732_7275),
        /** An absolute path, UTF-16LE ("W2ku"). */
        ABSOLUTE(0x5732_6B75),
        /** A file URL, UTF-8 ("MacX"). */
        MAC_URL(0x4D61_6358);

        final int code;

        Platform(int code) {
            this.code = code;
        }
    }

    /**
     * Parses and checks a header: the cookie, the checksum, the version, and a block size that is a power of two
     * from {@value #MIN_BLOCK_SIZE} bytes to {@value #MAX_BLOCK_SIZE}. Where the BAT is, is checked by the caller,
     * which knows the file.
     */
    static DynamicHeader parse(byte[] bytes, String where) throws ImageFormatException {
        if (bytes.length < SIZE) {
            throw new ImageFormatException(where + ": a dynamic disk header has 1024 bytes, got " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, SIZE);
        if (!COOKIE.equals(new String(bytes, 0, 8, StandardCharsets.ISO_8859_1))) {
            throw new ImageFormatException(where + ": no dynamic disk header: the cookie is "
                    + VhdFooter.quoted(bytes, 0, 8) + ", not \"" + COOKIE + "\"");
        }
        int stored = b.getInt(CHECKSUM_OFFSET);
        int computed = VhdFooter.checksum(bytes, SIZE, CHECKSUM_OFFSET);
        if (stored != computed) {
            throw new ImageFormatException(where + ": dynamic disk header checksum is 0x"
                    + Integer.toHexString(stored) + ", but its bytes sum to 0x" + Integer.toHexString(computed)
                    + " (a damaged header)");
        }
        int version = b.getInt(24);
        if (version != VERSION) {
            throw new ImageFormatException(where + ": unsupported dynamic disk header version 0x"
                    + Integer.toHexString(version) + " (only 0x10000 is defined)");
        }
        int blockSize = b.getInt(32);
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
            throw new ImageFormatException(where + ": dynamic disk block size " + Integer.toUnsignedString(blockSize)
                    + " is not a power of two from 4 KiB to 256 MiB");
        }
        int entries = b.getInt(28);
        if (entries < 0) {
            throw new ImageFormatException(where + ": " + Integer.toUnsignedString(entries)
                    + " BAT entries are more than diskhost serves (2^31 - 1)");
        }
        List<ParentLocator> locators = new ArrayList<>(LOCATORS);
        for (int i = 0; i < LOCATORS; i++) {
            int at = LOCATOR_OFFSET + i * LOCATOR_SIZE;
            locators.add(new ParentLocator(b.getInt(at), b.getInt(at + 4), b.getInt(at + 8), b.getLong(at + 16)));
        }
        return new DynamicHeader(b.getLong(16), entries, blockSize, Guids.read(bytes, 40),
                b.getInt(56) & 0xFFFF_FFFFL, parentName(bytes), locators);
    }

    /** The parent's name: UTF-16BE up to the first NUL. */
    private static String parentName(byte[] bytes) {
        int end = NAME_OFFSET;
        while (end < NAME_OFFSET + NAME_BYTES && (bytes[end] != 0 || bytes[end + 1] != 0)) {
            end += 2;
        }
        return new String(bytes, NAME_OFFSET, end - NAME_OFFSET, StandardCharsets.UTF_16BE);
    }

    /** The 1024 bytes of this header, with its checksum. */
    byte[] encode() {
        byte[] bytes = new byte[SIZE];
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.put(COOKIE.getBytes(StandardCharsets.US_ASCII));
        b.putLong(8, -1L).putLong(16, tableOffset).putInt(24, VERSION).putInt(28, maxTableEntries)
                .putInt(32, blockSize);
        Guids.write(parentUniqueId, bytes, 40);
        b.putInt(56, (int) parentTimestamp);
        byte[] name = parentName.getBytes(StandardCharsets.UTF_16BE);
        if (name.length > NAME_BYTES) {
            throw new IllegalArgumentException("the parent's name has more than 256 UTF-16 units: " + parentName);
        }
        System.arraycopy(name, 0, bytes, NAME_OFFSET, name.length);
        for (int i = 0; i < LOCATORS; i++) {
            ParentLocator l = locators.get(i);
            int at = LOCATOR_OFFSET + i * LOCATOR_SIZE;
            b.putInt(at, l.platformCode()).putInt(at + 4, l.dataSpace()).putInt(at + 8, l.dataLength())
                    .putLong(at + 16, l.dataOffset());
        }
        b.putInt(CHECKSUM_OFFSET, VhdFooter.checksum(bytes, SIZE, CHECKSUM_OFFSET));
        return bytes;
    }
}
