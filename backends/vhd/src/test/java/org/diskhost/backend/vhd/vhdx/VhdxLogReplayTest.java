package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.pattern;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.peek;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.poke;
import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.SECTOR;
import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.currentLogGuid;
import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.entry;
import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.setLogGuid;
import static org.diskhost.testkit.ExternalTools.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import org.diskhost.backend.vhd.vhdx.VhdxLogWriter.Op;

import org.diskhost.backend.vhd.ImageFile.Extent;
import org.diskhost.format.vhd.ImageFormatException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Log replay: the test writes log entries itself, following [MS-VHDX] 2.3 byte by byte (its own encoder, not the
 * implementation's), and checks what opening the file makes of them, read-only (in memory) and writable (in the
 * file), and that qemu's replay ({@code qemu-img check -r all}) gives the same disk.
 */
class VhdxLogReplayTest {
    private static final long LOG_OFFSET = MIB; // where createDynamic puts the 1 MiB log
    private static final long BAT_OFFSET = 3L * MIB; // and the BAT

    @TempDir
    Path dir;

    private Path file;
    private long block0;
    private long newBlock;
    private byte[] expected;

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
}
