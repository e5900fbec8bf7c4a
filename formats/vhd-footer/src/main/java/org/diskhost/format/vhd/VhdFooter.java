package org.diskhost.format.vhd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The 512-byte footer of a VHD file (Virtual Hard Disk Image Format Specification, "Hard Disk Footer Format"): the
 * last 512 bytes of every VHD, and for dynamic and differencing disks also a copy at offset 0. Integers are
 * big-endian; the unique id is a GUID in the Windows layout (see {@link Guids}).
 *
 * @param features feature bits; bit 1 ("reserved") is always set
 * @param formatVersion {@value #VERSION} (1.0) is the only version
 * @param dataOffset where the dynamic disk header is; {@value #NO_DATA_OFFSET} for a fixed disk
 * @param timestamp seconds since 2000-01-01 00:00:00 UTC, as an unsigned 32-bit value
 * @param creatorApplication four ASCII characters naming the creating application ({@code "qemu"},
 *        {@code "win "}, {@value #CREATOR})
 * @param creatorVersion the creating application's version
 * @param creatorHostOs four ASCII characters ({@code "Wi2k"} or {@code "Mac "})
 * @param originalSize the disk size in bytes when it was created
 * @param currentSize the disk size in bytes now: what diskhost serves
 * @param geometry the CHS geometry, for BIOSes and qemu's size rule
 * @param type fixed, dynamic or differencing
 * @param uniqueId the disk's identity: its disk id, and what a differencing child records as its parent's
 * @param savedState 1 when the disk is in a saved state
 */
public record VhdFooter(int features, int formatVersion, long dataOffset, long timestamp, String creatorApplication,
        int creatorVersion, String creatorHostOs, long originalSize, long currentSize, Geometry geometry,
        VhdType type, UUID uniqueId, int savedState) {

    public static final int SIZE = 512;
    public static final String COOKIE = "conectix";
    public static final int VERSION = 0x0001_0000;
    public static final long NO_DATA_OFFSET = -1L;
    /** The creator application diskhost writes. qemu uses the CHS size of images from "vpc " and "qemu", not ours. */
    public static final String CREATOR = "dkhs";
    /** The "reserved" feature bit the specification says is always set. */
    public static final int FEATURES_RESERVED = 2;
    /** 2000-01-01T00:00:00Z, the epoch of VHD timestamps. */
    public static final Instant EPOCH = Instant.parse("2000-01-01T00:00:00Z");

    private static final int CHECKSUM_OFFSET = 64;

    /** The disk types the specification defines and diskhost serves (the others are reserved or deprecated). */
    public enum VhdType {
        FIXED(2), DYNAMIC(3), DIFFERENCING(4);

        public final int code;

        VhdType(int code) {
            this.code = code;
        }

        public static VhdType of(int code) {
            for (VhdType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        /** "fixed", "dynamic", "differencing". */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A CHS geometry, computed from the size by the specification's algorithm ({@link #forSectors}).
     *
     * @param cylinders 0 to 65535
     * @param heads 0 to 255 (16 from the algorithm)
     * @param sectorsPerTrack 0 to 255
     */
    public record Geometry(int cylinders, int heads, int sectorsPerTrack) {
        /** The largest geometry: 65535 cylinders, 16 heads, 255 sectors per track (about 127 GiB). */
        public static final long MAX_SECTORS = 65535L * 16 * 255;

        public Geometry {
            if (cylinders < 0 || cylinders > 0xFFFF || heads < 0 || heads > 0xFF || sectorsPerTrack < 0
                    || sectorsPerTrack > 0xFF) {
                throw new IllegalArgumentException("not a CHS geometry: " + cylinders + "/" + heads + "/"
                        + sectorsPerTrack);
            }
        }

        /** The specification's CHS algorithm for a disk of {@code totalSectors} 512-byte sectors (capped). */
        public static Geometry forSectors(long totalSectors) {
            long total = Math.min(Math.max(totalSectors, 0), MAX_SECTORS);
            int sectorsPerTrack;
            int heads;
            long cylinderTimesHeads;
            if (total >= 65535L * 16 * 63) {
                sectorsPerTrack = 255;
                heads = 16;
                cylinderTimesHeads = total / sectorsPerTrack;
            } else {
                sectorsPerTrack = 17;
                cylinderTimesHeads = total / sectorsPerTrack;
                heads = (int) Math.max(4, (cylinderTimesHeads + 1023) / 1024);
                if (cylinderTimesHeads >= heads * 1024L || heads > 16) {
                    sectorsPerTrack = 31;
                    heads = 16;
                    cylinderTimesHeads = total / sectorsPerTrack;
                }
                if (cylinderTimesHeads >= heads * 1024L) {
                    sectorsPerTrack = 63;
                    heads = 16;
                    cylinderTimesHeads = total / sectorsPerTrack;
                }
            }
            return new Geometry((int) (cylinderTimesHeads / heads), heads, sectorsPerTrack);
        }

        /**
         * The smallest geometry the algorithm gives that holds {@code totalSectors} (qemu and Virtual PC size images
         * this way), or the largest geometry when none does.
         */
        public static Geometry holding(long totalSectors) {
            if (totalSectors >= MAX_SECTORS) {
                return forSectors(MAX_SECTORS);
            }
            // The algorithm rounds down by less than one cylinder (at most 16 x 255 sectors): a short walk up.
            for (long n = totalSectors; ; n++) {
                Geometry g = forSectors(n);
                if (g.sectors() >= totalSectors) {
                    return g;
                }
            }
        }

        /** Whether this is the largest geometry, which tells readers to use the footer's size instead. */
        public boolean isMax() {
            return cylinders == 65535 && heads == 16 && sectorsPerTrack == 255;
        }

        /** cylinders x heads x sectors per track: the size qemu gives images whose creator is "qemu" or "vpc ". */
        public long sectors() {
            return (long) cylinders * heads * sectorsPerTrack;
        }

        public int encode() {
            return cylinders << 16 | heads << 8 | sectorsPerTrack;
        }

        public static Geometry decode(int field) {
            return new Geometry(field >>> 16, field >>> 8 & 0xFF, field & 0xFF);
        }

        @Override
        public String toString() {
            return cylinders + "/" + heads + "/" + sectorsPerTrack;
        }
    }

    /**
     * The size of a new image of at least {@code bytes} (a multiple of 512): rounded up to a whole CHS geometry, as
     * qemu and Virtual PC do, so that readers which take the size from the geometry (Virtual PC, and qemu for
     * images it does not recognize as Hyper-V's) and readers which take the footer's size agree. From the largest
     * geometry on (about 127 GiB), where readers use the footer's size, the size is {@code bytes}.
     */
    public static long chsRoundedSize(long bytes) {
        Geometry g = Geometry.holding(bytes / 512);
        return g.isMax() ? bytes : g.sectors() * 512;
    }

    /**
     * A footer of a new image: version 1.0, the current time, diskhost as creator, the specification's geometry for
     * {@code size} (pass a {@link #chsRoundedSize} for the geometry to hold it exactly), and a random unique id.
     *
     * @param dataOffset {@value #NO_DATA_OFFSET} for a fixed disk, else the dynamic header's offset
     */
    public static VhdFooter create(VhdType type, long size, long dataOffset) {
        return new VhdFooter(FEATURES_RESERVED, VERSION, dataOffset, timestampOf(Instant.now()), CREATOR,
                0x0001_0000, "Wi2k", size, size, Geometry.forSectors(size / 512), type, UUID.randomUUID(), 0);
    }

    /** Seconds since 2000-01-01 UTC as the unsigned 32-bit VHD timestamp (it wraps in 2136). */
    public static long timestampOf(Instant when) {
        return (when.getEpochSecond() - EPOCH.getEpochSecond()) & 0xFFFF_FFFFL;
    }

    /**
     * Parses a footer, checking in this order the cookie, the checksum, the version and the disk type (the
     * reference's order; callers check the size against their file). Each failure is an
     * {@link ImageFormatException} whose message starts with {@code where}.
     *
     * @param bytes at least 512 bytes; the footer is the first 512
     */
    public static VhdFooter parse(byte[] bytes, String where) throws ImageFormatException {
        if (bytes.length < SIZE) {
            throw new ImageFormatException(where + ": a VHD footer has 512 bytes, got " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, SIZE);
        String cookie = ascii(bytes, 0, 8);
        if (!COOKIE.equals(cookie)) {
            throw new ImageFormatException(where + ": no VHD footer: the cookie is " + quoted(bytes, 0, 8)
                    + ", not \"" + COOKIE + "\"");
        }
        int stored = b.getInt(CHECKSUM_OFFSET);
        int computed = checksum(bytes, SIZE, CHECKSUM_OFFSET);
        if (stored != computed) {
            throw new ImageFormatException(where + ": VHD footer checksum is 0x" + Integer.toHexString(stored)
                    + ", but its bytes sum to 0x" + Integer.toHexString(computed) + " (a damaged footer)");
        }
        int version = b.getInt(12);
        if (version != VERSION) {
            throw new ImageFormatException(where + ": unsupported VHD version 0x" + Integer.toHexString(version)
                    + " (only 0x10000, version 1.0, is defined)");
        }
        int typeCode = b.getInt(60);
        VhdType type = VhdType.of(typeCode);
        if (type == null) {
            throw new ImageFormatException(where + ": VHD disk type " + Integer.toUnsignedString(typeCode)
                    + " is none of fixed (2), dynamic (3) and differencing (4)");
        }
        return new VhdFooter(b.getInt(8), version, b.getLong(16), b.getInt(24) & 0xFFFF_FFFFL, ascii(bytes, 28, 4),
                b.getInt(32), ascii(bytes, 36, 4), b.getLong(40), b.getLong(48), Geometry.decode(b.getInt(56)), type,
                Guids.read(bytes, 68), bytes[84] & 0xFF);
    }

    /**
     * The validated footer of a fixed VHD of {@code length} bytes whose last 512 bytes are {@code tail}, checked in the
     * reference's order: the length (at least 512, a multiple of 512), then as {@link #parse} does (cookie, checksum,
     * version, disk type), that the type is fixed, and that the current size is a multiple of 512 that fits before
     * the footer. Shared by every reader of fixed VHDs (files, blobs), so they accept exactly the same images.
     *
     * @param tail the last 512 bytes of the image (ignored when the length is already wrong)
     * @param where names the image in error messages
     * @throws ImageFormatException naming {@code where} and the check that failed
     */
    public static VhdFooter parseFixed(long length, byte[] tail, String where) throws ImageFormatException {
        checkFixedLength(length, where);
        VhdFooter footer = parse(tail, where);
        if (footer.type() != VhdType.FIXED) {
            throw new ImageFormatException(where + ": a " + footer.type().label() + " VHD, not a fixed one (kind "
                    + "'vhd' serves dynamic and differencing VHDs)");
        }
        long room = length - SIZE;
        long currentSize = footer.currentSize();
        if (currentSize < 0 || currentSize % 512 != 0 || currentSize > room) {
            throw new ImageFormatException(where + ": the VHD footer's current size " + Long.toUnsignedString(
                    currentSize) + " is not a multiple of 512 that fits in the " + room + " bytes before the footer");
        }
        return footer;
    }

    /** The first check of {@link #parseFixed}, to make before reading the tail. */
    public static void checkFixedLength(long length, String where) throws ImageFormatException {
        if (length < SIZE || length % SIZE != 0) {
            throw new ImageFormatException(where + ": a fixed VHD's length is a multiple of 512 bytes, at least 512 "
                    + "(the footer), but the file has " + length + " bytes");
        }
    }

    /** Whether {@code bytes} start with the footer cookie: a VHD footer, maybe a damaged one. */
    public static boolean hasCookie(byte[] bytes) {
        return bytes.length >= 8 && COOKIE.equals(ascii(bytes, 0, 8));
    }

    /** The 512 bytes of this footer, with its checksum. */
    public byte[] encode() {
        byte[] bytes = new byte[SIZE];
        ByteBuffer b = ByteBuffer.wrap(bytes);
        b.put(COOKIE.getBytes(StandardCharsets.US_ASCII));
        b.putInt(8, features).putInt(12, formatVersion).putLong(16, dataOffset).putInt(24, (int) timestamp);
        putAscii(bytes, 28, creatorApplication);
        b.putInt(32, creatorVersion);
        putAscii(bytes, 36, creatorHostOs);
        b.putLong(40, originalSize).putLong(48, currentSize).putInt(56, geometry.encode()).putInt(60, type.code);
        Guids.write(uniqueId, bytes, 68);
        bytes[84] = (byte) savedState;
        b.putInt(CHECKSUM_OFFSET, checksum(bytes, SIZE, CHECKSUM_OFFSET));
        return bytes;
    }

    /**
     * The VHD checksum of a 512-byte footer or a 1024-byte dynamic header: the ones' complement of the sum of its
     * first {@code length} bytes, skipping the four checksum bytes at {@code checksumOffset}.
     */
    public static int checksum(byte[] bytes, int length, int checksumOffset) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            if (i < checksumOffset || i >= checksumOffset + 4) {
                sum += bytes[i] & 0xFF;
            }
        }
        return ~sum;
    }

    private static String ascii(byte[] bytes, int offset, int length) {
        return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }

    /** The bytes for an error message: printable ASCII in quotes, anything else as hex. */
    public static String quoted(byte[] bytes, int offset, int length) {
        StringBuilder s = new StringBuilder("\"");
        for (int i = offset; i < offset + length; i++) {
            int c = bytes[i] & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c));
            }
        }
        return s.append('"').toString();
    }

    private static void putAscii(byte[] bytes, int offset, String four) {
        byte[] ascii = four.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(ascii, 0, bytes, offset, Math.min(4, ascii.length));
    }
}
