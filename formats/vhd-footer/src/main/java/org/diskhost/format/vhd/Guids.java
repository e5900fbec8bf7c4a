package org.diskhost.format.vhd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;

/**
 * GUIDs as Windows stores them, in VHD footers and VHDX headers: data1 (32 bits), data2 and data3 (16 bits each)
 * little-endian, then data4's eight bytes as they are. {@link UUID} holds the same value in its canonical (big-endian)
 * order, so {@code UUID.toString()} prints what Windows tools print.
 */
public final class Guids {
    private Guids() {
    }

    /** The GUID stored at {@code bytes[offset..offset+16)}. */
    public static UUID read(byte[] bytes, int offset) {
        ByteBuffer le = ByteBuffer.wrap(bytes, offset, 16).order(ByteOrder.LITTLE_ENDIAN);
        long data1 = le.getInt(offset) & 0xFFFF_FFFFL;
        long data2 = le.getShort(offset + 4) & 0xFFFFL;
        long data3 = le.getShort(offset + 6) & 0xFFFFL;
        long data4 = ByteBuffer.wrap(bytes, offset + 8, 8).getLong(offset + 8);
        return new UUID(data1 << 32 | data2 << 16 | data3, data4);
    }

    /** Stores {@code id} at {@code bytes[offset..offset+16)}. */
    public static void write(UUID id, byte[] bytes, int offset) {
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long high = id.getMostSignificantBits();
        le.putInt(offset, (int) (high >>> 32)).putShort(offset + 4, (short) (high >>> 16))
                .putShort(offset + 6, (short) high);
        ByteBuffer.wrap(bytes).putLong(offset + 8, id.getLeastSignificantBits());
    }

    /** The 16 stored bytes of {@code id}: a disk id is exactly what the file holds. */
    public static byte[] bytes(UUID id) {
        byte[] out = new byte[16];
        write(id, out, 0);
        return out;
    }
}
