package org.diskhost.backend.vhd.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * The region table (two identical 64 KiB copies at 192 KiB and 256 KiB): where the BAT and the metadata region are.
 *
 * @param bat the BAT region
 * @param metadata the metadata region
 */
record RegionTable(Region bat, Region metadata) {
    static final int SIZE = 64 * 1024;
    static final long[] OFFSETS = {192 * 1024, 256 * 1024};
    static final UUID BAT = UUID.fromString("2dc27766-f623-4200-9d64-115e9bfd4a08");
    static final UUID METADATA = UUID.fromString("8b7ca206-4790-4b9a-b8fe-575f050f886e");
    private static final int SIGNATURE = 0x69676572; // "regi"
    private static final int MAX_ENTRIES = 2047;
    private static final long MIB = 1 << 20;

    /** One region: file offset and length, both multiples of 1 MiB. */
    record Region(long offset, long length) {
        long end() {
            return offset + length;
        }
    }

    /**
     * Checks and decodes one 64 KiB copy (from {@code raw}'s position). Besides a bad signature or checksum, a copy is
     * invalid when it lacks the BAT or metadata region, names one twice, has a misaligned region, or has an unknown
     * region marked required (which this implementation cannot honour).
     */
    static Decoded<RegionTable> parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        String fault = Crc32c.verify(b, base, SIZE, SIGNATURE, "regi");
        if (fault != null) {
            return new Decoded.Invalid<>(fault);
        }
        long count = Integer.toUnsignedLong(b.getInt(base + 8));
        if (count > MAX_ENTRIES) {
            return new Decoded.Invalid<>("entry count " + count + " exceeds " + MAX_ENTRIES);
        }
        Region bat = null;
        Region metadata = null;
        for (int i = 0; i < count; i++) {
            int e = base + 16 + 32 * i;
            UUID guid = Guids.read(b, e);
            long offset = b.getLong(e + 16);
            long length = Integer.toUnsignedLong(b.getInt(e + 24));
            boolean required = (b.getInt(e + 28) & 1) != 0;
            Region region = new Region(offset, length);
            if (guid.equals(BAT) || guid.equals(METADATA)) {
                if (offset < MIB || offset % MIB != 0 || length == 0 || length % MIB != 0) {
                    return new Decoded.Invalid<>("region " + guid + " has offset " + offset + " and length " + length
                            + "; both must be multiples of 1 MiB, the offset at least 1 MiB");
                }
                if ((guid.equals(BAT) ? bat : metadata) != null) {
                    return new Decoded.Invalid<>("region " + guid + " appears twice");
                }
                if (guid.equals(BAT)) {
                    bat = region;
                } else {
                    metadata = region;
                }
            } else if (required) {
                return new Decoded.Invalid<>("unknown region " + guid + " is marked required");
            }
        }
        if (bat == null || metadata == null) {
            return new Decoded.Invalid<>("the " + (bat == null ? "BAT" : "metadata") + " region is missing");
        }
        if (bat.offset() < metadata.end() && metadata.offset() < bat.end()) {
            return new Decoded.Invalid<>("the BAT and metadata regions overlap");
        }
        return new Decoded.Valid<>(new RegionTable(bat, metadata));
    }

    /** The 64 KiB encoding, checksum included (both regions marked required). */
    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, SIGNATURE);
        b.putInt(8, 2);
        putEntry(b, 0, BAT, bat);
        putEntry(b, 1, METADATA, metadata);
        b.putInt(4, Crc32c.of(b, 0, SIZE, 4));
        return b;
    }

    private static void putEntry(ByteBuffer b, int index, UUID guid, Region r) {
        int e = 16 + 32 * index;
        Guids.write(b, e, guid);
        b.putLong(e + 16, r.offset());
        b.putInt(e + 24, (int) r.length());
        b.putInt(e + 28, 1);
    }
}
