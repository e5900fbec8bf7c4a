package org.diskhost.backend.vhd.vhdx;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** The VHDX checksum: CRC-32C over a structure whose own 4-byte checksum field counts as zero. */
final class Crc32c {
    private Crc32c() {
    }

    /**
     * The checksum of {@code length} bytes of {@code buf} from {@code offset}, with the four bytes at
     * {@code offset + checksumField} taken as zero. The buffer is not changed.
     */
    static int of(ByteBuffer buf, int offset, int length, int checksumField) {
        CRC32C crc = new CRC32C();
        ByteBuffer view = buf.duplicate();
        view.limit(offset + checksumField).position(offset);
        crc.update(view);
        crc.update(new byte[4]);
        view.limit(offset + length).position(offset + checksumField + 4);
        crc.update(view);
        return (int) crc.getValue();
    }

    /**
     * Checks a structure that starts with a 4-byte signature followed by its checksum (headers, region tables, log
     * entries): the {@code size} bytes at {@code offset} of {@code b} (little-endian).
     *
     * @return null when both are right, else what is wrong
     */
    static String verify(ByteBuffer b, int offset, int size, int signature, String signatureName) {
        if (b.getInt(offset) != signature) {
            return "no \"" + signatureName + "\" signature";
        }
        int stored = b.getInt(offset + 4);
        int computed = of(b, offset, size, 4);
        return stored == computed ? null
                : String.format("checksum mismatch (stored %08x, computed %08x)", stored, computed);
    }
}
