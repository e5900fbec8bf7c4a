package org.diskhost.backend.vhd.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * One of the two 4 KiB VHDX headers (at 64 KiB and 128 KiB). The current header is the valid one with the higher
 * sequence number; an update writes the other slot with the next sequence number, so a torn header write leaves the
 * previous header current.
 *
 * @param sequenceNumber orders the two headers; the higher valid one is current
 * @param fileWriteGuid changes before the first modification of the file after each open
 * @param dataWriteGuid changes before the first change of the virtual disk's content after each open; a
 *     differencing child records its parent's value as {@code parent_linkage}
 * @param logGuid zero when the log is empty; otherwise only log entries carrying this GUID belong to the log
 * @param logVersion must be 0
 * @param version must be 1
 * @param logLength bytes of the log region, a multiple of 1 MiB
 * @param logOffset file offset of the log region, a multiple of 1 MiB
 */
record VhdxHeader(long sequenceNumber, UUID fileWriteGuid, UUID dataWriteGuid, UUID logGuid, int logVersion,
        int version, long logLength, long logOffset) {

    static final int SIZE = 4096;
    static final long[] OFFSETS = {64 * 1024, 128 * 1024};
    private static final int SIGNATURE = 0x64616568; // "head", little-endian

    /** Checks and decodes the 4 KiB from {@code raw}'s position: a header whose signature and checksum check. */
    static Decoded<VhdxHeader> parse(ByteBuffer raw) {
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        String fault = Crc32c.verify(b, base, SIZE, SIGNATURE, "head");
        if (fault != null) {
            return new Decoded.Invalid<>(fault);
        }
        return new Decoded.Valid<>(new VhdxHeader(b.getLong(base + 8), Guids.read(b, base + 16), Guids.read(b, base + 32),
                Guids.read(b, base + 48), Short.toUnsignedInt(b.getShort(base + 64)),
                Short.toUnsignedInt(b.getShort(base + 66)), Integer.toUnsignedLong(b.getInt(base + 68)),
                b.getLong(base + 72)));
    }

    /** The 4 KiB encoding of this header, checksum included. */
    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, SIGNATURE);
        b.putLong(8, sequenceNumber);
        Guids.write(b, 16, fileWriteGuid);
        Guids.write(b, 32, dataWriteGuid);
        Guids.write(b, 48, logGuid);
        b.putShort(64, (short) logVersion);
        b.putShort(66, (short) version);
        b.putInt(68, (int) logLength);
        b.putLong(72, logOffset);
        b.putInt(4, Crc32c.of(b, 0, SIZE, 4));
        return b;
    }

    VhdxHeader withSequence(long seq) {
        return new VhdxHeader(seq, fileWriteGuid, dataWriteGuid, logGuid, logVersion, version, logLength, logOffset);
    }

    VhdxHeader withGuids(UUID fileWrite, UUID dataWrite, UUID log) {
        return new VhdxHeader(sequenceNumber, fileWrite, dataWrite, log, logVersion, version, logLength, logOffset);
    }
}
