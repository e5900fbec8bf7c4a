package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.peek;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.poke;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Writes VHDX log entries and header fields the way [MS-VHDX] 2.2.2 and 2.3 lay them out, independently of the
 * implementation's own codecs, so tests can build files with a log to replay.
 */
final class VhdxLogWriter {
    static final int SECTOR = 4096;

    private VhdxLogWriter() {
    }

    /** One log operation: write a 4 KiB page, or zero a range. */
    sealed interface Op {
        record Data(long fileOffset, byte[] page) implements Op {
        }

        record Zero(long fileOffset, long length) implements Op {
        }
    }

    /**
     * Encodes one log entry ([MS-VHDX] 2.3.1): the header sector with the descriptors (more descriptor sectors when
     * they do not fit), then one data sector per data descriptor; CRC-32C over it all with the checksum field zero.
     */
    static byte[] entry(long seq, UUID logGuid, int tail, long flushed, long last, List<Op> ops) {
        int descriptorSectors = (64 + 32 * ops.size() + SECTOR - 1) / SECTOR;
        int dataSectors = (int) ops.stream().filter(o -> o instanceof Op.Data).count();
        ByteBuffer b = ByteBuffer.allocate((descriptorSectors + dataSectors) * SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x65676f6c).putInt(8, b.capacity()).putInt(12, tail).putLong(16, seq).putInt(24, ops.size());
        putGuid(b, 32, logGuid);
        b.putLong(48, flushed).putLong(56, last);
        int data = descriptorSectors * SECTOR;
        for (int i = 0; i < ops.size(); i++) {
            int d = 64 + 32 * i;
            switch (ops.get(i)) {
                case Op.Zero z -> b.putInt(d, 0x6f72657a).putLong(d + 8, z.length()).putLong(d + 16, z.fileOffset());
                case Op.Data w -> {
                    ByteBuffer page = ByteBuffer.wrap(w.page()).order(ByteOrder.LITTLE_ENDIAN);
                    b.putInt(d, 0x63736564).putInt(d + 4, page.getInt(SECTOR - 4)).putLong(d + 8, page.getLong(0))
                            .putLong(d + 16, w.fileOffset());
                    b.putInt(data, 0x61746164).putInt(data + 4, (int) (seq >>> 32));
                    b.put(data + 8, w.page(), 8, SECTOR - 12);
                    b.putInt(data + SECTOR - 4, (int) seq);
                    data += SECTOR;
                }
            }
            b.putLong(d + 24, seq);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array());
        b.putInt(4, (int) crc.getValue());
        return b.array();
    }

    /** Writes the GUID in the Microsoft layout (first three fields little-endian). */
    static void putGuid(ByteBuffer b, int at, UUID g) {
        long msb = g.getMostSignificantBits();
        b.putInt(at, (int) (msb >>> 32)).putShort(at + 4, (short) (msb >>> 16)).putShort(at + 6, (short) msb);
        b.order(ByteOrder.BIG_ENDIAN).putLong(at + 8, g.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
    }

    static UUID getGuid(ByteBuffer b, int at) {
        long msb = (Integer.toUnsignedLong(b.getInt(at)) << 32) | (Short.toUnsignedLong(b.getShort(at + 4)) << 16)
                | Short.toUnsignedLong(b.getShort(at + 6));
        long lsb = b.order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        b.order(ByteOrder.LITTLE_ENDIAN);
        return new UUID(msb, lsb);
    }

    /** The current header's slot (higher sequence number; both are valid in these tests). */
    static int currentSlot(Path file) throws IOException {
        return peek(file, 128 * 1024 + 8, 8).getLong(0) > peek(file, 64 * 1024 + 8, 8).getLong(0) ? 1 : 0;
    }

    static UUID currentLogGuid(Path file) throws IOException {
        return getGuid(peek(file, (currentSlot(file) + 1) * 64L * 1024, 64), 48);
    }

    /** Writes the current header, with {@code logGuid} and the next sequence number, into the other slot. */
    static void setLogGuid(Path file, UUID logGuid) throws IOException {
        int current = currentSlot(file);
        ByteBuffer h = peek(file, (current + 1) * 64L * 1024, SECTOR);
        h.putLong(8, h.getLong(8) + 1);
        putGuid(h, 48, logGuid);
        h.putInt(4, 0);
        CRC32C crc = new CRC32C();
        crc.update(h.array());
        h.putInt(4, (int) crc.getValue());
        poke(file, (2 - current) * 64L * 1024, h.array());
    }

    /** Recomputes the CRC-32C of the {@code size}-byte structure at {@code offset} (checksum at +4): a header or region table. */
    static void fixChecksum(Path file, long offset, int size) throws IOException {
        ByteBuffer b = peek(file, offset, size);
        b.putInt(4, 0);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, size);
        b.putInt(4, (int) crc.getValue());
        poke(file, offset, b.array());
    }
}
