package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.pattern;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.peek;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.poke;
import static org.diskhost.testkit.ExternalTools.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

import org.diskhost.backend.vhd.ImageFile.Extent;
import org.diskhost.backend.vhd.ImageFormatException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log replay: the test writes log entries itself, following [MS-VHDX] 2.3 byte by byte (its own encoder, not the
 * implementation's), and checks what opening the file makes of them, read-only (in memory) and writable (in the
 * file), and that qemu's replay ({@code qemu-img check -r all}) gives the same disk.
 */
class VhdxLogReplayTest {
    private static final int SECTOR = 4096;
    private static final long LOG_OFFSET = MIB; // where createDynamic puts the 1 MiB log
    private static final long BAT_OFFSET = 3L * MIB; // and the BAT

    @TempDir
    Path dir;

    private Path file;
    private long block0;
    private long newBlock;
    private byte[] expected;

    /** One log operation: write a 4 KiB page, or zero a range. */
    private sealed interface Op {
        record Data(long fileOffset, byte[] page) implements Op {
        }

        record Zero(long fileOffset, long length) implements Op {
        }
    }

    /**
     * A 16 MiB dynamic image with block 0 written; then, as a writer that crashed mid-update would leave it: the
     * first 64 KiB of a new block written past the end of the file (payload goes straight to its place), and a log
     * whose two entries point BAT entry 1 at the new block, mark block 2 ZERO, and zero the first 8 KiB of block 0
     * (then a torn third entry, and an entry of an older log).
     */
    @BeforeEach
    void dirtyImage() throws IOException {
        file = dir.resolve("dirty.vhdx");
        expected = new byte[16 * MIB];
        byte[] p0 = pattern(MIB, 10);
        try (VhdxImage image = VhdxImage.createDynamic(file, VhdxCreateOptions.of(16 * MIB).withBlockSize(MIB))) {
            image.write(0, ByteBuffer.wrap(p0));
        }
        System.arraycopy(p0, 0, expected, 0, MIB);
        Arrays.fill(expected, 0, 8192, (byte) 0);
        long batEntry0 = peek(file, BAT_OFFSET, 8).getLong(0);
        block0 = (batEntry0 >>> 20) << 20;
        newBlock = Files.size(file); // 1 MiB aligned
        byte[] p1 = pattern(64 * 1024, 11);
        poke(file, newBlock, p1);
        System.arraycopy(p1, 0, expected, MIB, p1.length);

        ByteBuffer bat = peek(file, BAT_OFFSET, SECTOR);
        bat.putLong(8, newBlock | 6); // FULLY_PRESENT
        byte[] batPage1 = bat.array().clone();
        bat.putLong(16, 2); // PAYLOAD_BLOCK_ZERO
        byte[] batPage2 = bat.array().clone();

        UUID logGuid = UUID.randomUUID();
        long flushed = Files.size(file) / MIB * MIB;
        long last = newBlock + MIB;
        List<byte[]> entries = new ArrayList<>();
        entries.add(entry(41, logGuid, 0, flushed, last, List.of(new Op.Data(BAT_OFFSET, batPage1))));
        int second = entries.getFirst().length;
        entries.add(entry(42, logGuid, 0, flushed, last, List.of(new Op.Zero(block0, 8192),
                new Op.Data(BAT_OFFSET, batPage2))));
        byte[] torn = entry(43, logGuid, 0, flushed, last, List.of(new Op.Zero(block0, MIB)));
        torn[100] ^= 1;
        entries.add(torn);
        long at = LOG_OFFSET;
        for (byte[] e : entries) {
            poke(file, at, e);
            at += e.length;
        }
        // An entry of an earlier log (another GUID) further on: never replayed.
        poke(file, LOG_OFFSET + 64 * SECTOR, entry(99, UUID.randomUUID(), 64 * SECTOR, flushed, last,
                List.of(new Op.Zero(block0, MIB))));
        assertEquals(SECTOR * 2, second); // header sector + one data sector
        setLogGuid(file, logGuid);
    }

    /** A read-only open replays in memory: the disk shows the replayed state and the file stays as it was. */
    @Test
    void readOnlyOpenReplaysInMemory() throws IOException {
        byte[] before = Files.readAllBytes(file);
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(expected, image);
            assertEquals(new Extent(MIB, Extent.State.PRESENT), image.extentAt(MIB, MIB));
            assertEquals(new Extent(MIB, Extent.State.ZERO), image.extentAt(2 * MIB, 16 * MIB));
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    /** A writable open replays into the file, extends it to the last file offset and clears the log GUID. */
    @Test
    void writableOpenReplaysIntoTheFile() throws IOException {
        try (VhdxImage image = VhdxImage.open(file, false)) {
            assertContent(expected, image);
        }
        assertTrue(Files.size(file) >= newBlock + MIB, "extended to the head's last file offset");
        assertEquals(new UUID(0, 0), currentLogGuid(file));
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(expected, image);
            assertEquals(new Extent(MIB, Extent.State.ZERO), image.extentAt(2 * MIB, MIB));
        }
    }

    /** qemu replays the same log ({@code qemu-img check -r all}) to the same disk. */
    @Test
    void qemuReplaysTheSameLog() throws Exception {
        Path copy = dir.resolve("copy.vhdx");
        Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
        // qemu 7.2 extends the file to the head's last file offset only when that is not a multiple of 1 MiB (which
        // the specification requires it to be), and then refuses the BAT entry past the end: give it the length.
        poke(copy, newBlock + MIB - 1, new byte[1]);
        ok(dir, "qemu-img", "check", "-q", "-r", "all", "-f", "vhdx", copy.toString());
        Path raw = dir.resolve("copy.raw");
        ok(dir, "qemu-img", "convert", "-f", "vhdx", "-O", "raw", copy.toString(), raw.toString());
        assertArrayEquals(expected, Files.readAllBytes(raw));
        try (VhdxImage image = VhdxImage.open(copy, true)) {
            assertContent(expected, image);
        }
    }

    /** The only entry of the log has a bad checksum: no valid sequence, so the file is corrupt. */
    @Test
    void logEntryWithBadChecksumIsRefused() throws IOException {
        Path bad = dir.resolve("bad.vhdx");
        VhdxImage.createDynamic(bad, VhdxCreateOptions.of(4 * MIB).withBlockSize(MIB)).close();
        UUID logGuid = UUID.randomUUID();
        byte[] e = entry(7, logGuid, 0, MIB, 4 * MIB, List.of(new Op.Zero(BAT_OFFSET, SECTOR)));
        e[SECTOR - 1] ^= 0x40; // inside the entry, covered by its checksum
        poke(bad, LOG_OFFSET, e);
        setLogGuid(bad, logGuid);
        for (boolean readOnly : new boolean[] {true, false}) {
            ImageFormatException x = assertThrows(ImageFormatException.class, () -> VhdxImage.open(bad, readOnly));
            assertTrue(x.getMessage().contains("log") && x.getMessage().contains("checksum mismatch"),
                    x.getMessage());
        }
    }

    /** The head entry says the file was longer than it is: truncated. */
    @Test
    void logOfATruncatedFileIsRefused() throws IOException {
        Path bad = dir.resolve("short.vhdx");
        VhdxImage.createDynamic(bad, VhdxCreateOptions.of(4 * MIB).withBlockSize(MIB)).close();
        UUID logGuid = UUID.randomUUID();
        poke(bad, LOG_OFFSET, entry(7, logGuid, 0, 64L * MIB, 64L * MIB, List.of()));
        setLogGuid(bad, logGuid);
        ImageFormatException x = assertThrows(ImageFormatException.class, () -> VhdxImage.open(bad, true));
        assertTrue(x.getMessage().contains("truncated"), x.getMessage());
    }

    /** A log may not write into the header section: refused, not applied. */
    @Test
    void logWritingTheHeadersIsRefused() throws IOException {
        Path bad = dir.resolve("hdr.vhdx");
        VhdxImage.createDynamic(bad, VhdxCreateOptions.of(4 * MIB).withBlockSize(MIB)).close();
        UUID logGuid = UUID.randomUUID();
        poke(bad, LOG_OFFSET, entry(7, logGuid, 0, MIB, 4 * MIB, List.of(new Op.Zero(64 * 1024, SECTOR))));
        setLogGuid(bad, logGuid);
        byte[] before = Files.readAllBytes(bad);
        ImageFormatException x = assertThrows(ImageFormatException.class, () -> VhdxImage.open(bad, false));
        assertTrue(x.getMessage().contains("into the headers"), x.getMessage());
        assertArrayEquals(Arrays.copyOf(before, 64 * 1024), Arrays.copyOf(Files.readAllBytes(bad), 64 * 1024));
    }

    /**
     * Encodes one log entry ([MS-VHDX] 2.3.1): the header sector with the descriptors (more descriptor sectors when
     * they do not fit), then one data sector per data descriptor; CRC-32C over it all with the checksum field zero.
     */
    private static byte[] entry(long seq, UUID logGuid, int tail, long flushed, long last, List<Op> ops) {
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
    private static void putGuid(ByteBuffer b, int at, UUID g) {
        long msb = g.getMostSignificantBits();
        b.putInt(at, (int) (msb >>> 32)).putShort(at + 4, (short) (msb >>> 16)).putShort(at + 6, (short) msb);
        b.order(ByteOrder.BIG_ENDIAN).putLong(at + 8, g.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static UUID getGuid(ByteBuffer b, int at) {
        long msb = (Integer.toUnsignedLong(b.getInt(at)) << 32) | (Short.toUnsignedLong(b.getShort(at + 4)) << 16)
                | Short.toUnsignedLong(b.getShort(at + 6));
        long lsb = b.order(ByteOrder.BIG_ENDIAN).getLong(at + 8);
        b.order(ByteOrder.LITTLE_ENDIAN);
        return new UUID(msb, lsb);
    }

    /** The current header's slot (higher sequence number; both are valid in these tests). */
    private static int currentSlot(Path file) throws IOException {
        return peek(file, 128 * 1024 + 8, 8).getLong(0) > peek(file, 64 * 1024 + 8, 8).getLong(0) ? 1 : 0;
    }

    private static UUID currentLogGuid(Path file) throws IOException {
        return getGuid(peek(file, (currentSlot(file) + 1) * 64L * 1024, 64), 48);
    }

    /** Writes the current header, with {@code logGuid} and the next sequence number, into the other slot. */
    private static void setLogGuid(Path file, UUID logGuid) throws IOException {
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
}
