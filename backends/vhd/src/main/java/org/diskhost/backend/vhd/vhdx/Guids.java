package org.diskhost.backend.vhd.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * GUIDs as VHDX stores them: the Microsoft layout, where the first three fields (4, 2 and 2 bytes) are little-endian
 * and the last eight bytes are stored as they are. {@link UUID} holds the canonical (big-endian) value, so the
 * string form matches what Windows tools print.
 */
final class Guids {
    static final UUID ZERO = new UUID(0, 0);

    private Guids() {
    }

    /** Reads a GUID at {@code offset} of {@code buf} (absolute, the buffer's position is not moved). */
    static UUID read(ByteBuffer buf, int offset) {
        ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long d1 = Integer.toUnsignedLong(le.getInt(offset));
        long d2 = Short.toUnsignedLong(le.getShort(offset + 4));
        long d3 = Short.toUnsignedLong(le.getShort(offset + 6));
        long msb = (d1 << 32) | (d2 << 16) | d3;
        long lsb = buf.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(offset + 8);
        return new UUID(msb, lsb);
    }

    /** Writes {@code guid} at {@code offset} of {@code buf} (absolute). */
    static void write(ByteBuffer buf, int offset, UUID guid) {
        ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long msb = guid.getMostSignificantBits();
        le.putInt(offset, (int) (msb >>> 32));
        le.putShort(offset + 4, (short) (msb >>> 16));
        le.putShort(offset + 6, (short) msb);
        buf.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(offset + 8, guid.getLeastSignificantBits());
    }

    static boolean isZero(UUID guid) {
        return guid.getMostSignificantBits() == 0 && guid.getLeastSignificantBits() == 0;
    }
}
