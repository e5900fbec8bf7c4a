package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.fixChecksum;
import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.putGuid;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.pattern;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.peek;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.poke;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.truncate;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import org.diskhost.format.vhd.ImageFormatException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken files give an ImageFormatException that names the structure at fault: never a wrong read, never a hang. */
class VhdxBadInputTest {
    private static final long HEADER1 = 64 * 1024;
    private static final long HEADER2 = 128 * 1024;
    private static final long REGIONS1 = 192 * 1024;
    private static final long REGIONS2 = 256 * 1024;
    private static final long METADATA = 2L * MIB; // where createDynamic puts them
    private static final long BAT = 3L * MIB;

    @TempDir
    Path dir;

    private Path file;
    private byte[] content;

    @BeforeEach
    void image() throws IOException {
        file = dir.resolve("x.vhdx");
        content = new byte[8 * MIB];
        byte[] data = pattern(3 * MIB, 1);
        System.arraycopy(data, 0, content, MIB / 2, data.length);
        try (VhdxImage image = VhdxImage.createDynamic(file, VhdxCreateOptions.of(8 * MIB).withBlockSize(MIB))) {
            image.write(MIB / 2, ByteBuffer.wrap(data));
        }
    }

    private void assertRefused(String... fragments) {
        ImageFormatException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(ImageFormatException.class, () -> VhdxImage.open(file, true).close()));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "\"" + f + "\" not in: " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    }

    private void assertOpensWithContent() throws IOException {
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(content, image);
        }
    }

    @Test
    void notVhdx() throws IOException {
        Files.write(file, pattern(2 * MIB, 2));
        assertRefused("\"vhdxfile\" signature");
        try (FileChannel ch = FileChannel.open(file)) {
            assertFalse(VhdxImage.probe(ch));
        }
        Files.write(file, new byte[3]);
        try (FileChannel ch = FileChannel.open(file)) {
            assertFalse(VhdxImage.probe(ch));
        }
    }

    @Test
    void truncatedFiles() throws IOException {
        long size = Files.size(file);
        truncate(file, size - MIB); // the last data block is cut
        assertRefused("BAT entry", "past the end of the file");
        truncate(file, BAT + 4096); // inside the BAT region
        assertRefused("BAT region", "past the end of the file", "truncated");
        truncate(file, 300 * 1024);
        assertRefused("1 MiB header section");
        truncate(file, 0);
        assertRefused("shorter than");
    }

    @Test
    void oneBadHeaderFallsBackToTheOther() throws IOException {
        poke(file, HEADER1 + 100, new byte[] {1});
        assertOpensWithContent();
        poke(file, HEADER2 + 200, new byte[] {1});
        assertRefused("no valid header", "header 1", "header 2", "checksum mismatch");
        poke(file, HEADER1, "abcd".getBytes());
        assertRefused("no \"head\" signature");
    }

    @Test
    void badHeaderVersion() throws IOException {
        for (long h : new long[] {HEADER1, HEADER2}) {
            poke(file, h + 66, new byte[] {2, 0});
            fixChecksum(file, h, 4096);
        }
        assertRefused("version 2");
    }

    @Test
    void oneBadRegionTableFallsBackToTheOther() throws IOException {
        poke(file, REGIONS1 + 1000, new byte[] {1});
        assertOpensWithContent();
        poke(file, REGIONS2 + 1000, new byte[] {1});
        assertRefused("no valid region table", "region table 1", "checksum mismatch");
    }

    @Test
    void unknownRequiredRegion() throws IOException {
        for (long rt : new long[] {REGIONS1, REGIONS2}) {
            addRegion(rt, UUID.randomUUID(), 7 * MIB, MIB, 1);
        }
        assertRefused("unknown region", "required");
    }

    @Test
    void unknownOptionalRegionIsIgnored() throws IOException {
        for (long rt : new long[] {REGIONS1, REGIONS2}) {
            addRegion(rt, UUID.randomUUID(), 100 * MIB, MIB, 0);
        }
        assertOpensWithContent();
    }

    private void addRegion(long table, UUID guid, long offset, int length, int required) throws IOException {
        ByteBuffer b = peek(file, table, 64 * 1024);
        int count = b.getInt(8);
        int e = 16 + 32 * count;
        putGuid(b, e, guid);
        b.putLong(e + 16, offset).putInt(e + 24, length).putInt(e + 28, required).putInt(8, count + 1);
        poke(file, table, b.array());
        fixChecksum(file, table, 64 * 1024);
    }

    @Test
    void badMetadataSignature() throws IOException {
        poke(file, METADATA, "metadatX".getBytes());
        assertRefused("metadata table", "signature");
    }

    @Test
    void unknownRequiredMetadataItem() throws IOException {
        addMetadataItem(UUID.randomUUID(), 4, false);
        assertRefused("unknown metadata item", "required");
    }

    @Test
    void unknownOptionalAndUserMetadataItemsAreIgnored() throws IOException {
        addMetadataItem(UUID.randomUUID(), 0, false);
        addMetadataItem(UUID.randomUUID(), 2, true);
        assertOpensWithContent();
    }

    @Test
    void requiredUserMetadataItem() throws IOException {
        addMetadataItem(UUID.randomUUID(), 4, true);
        assertRefused("user metadata item", "required");
    }

    private void addMetadataItem(UUID id, int flags, boolean user) throws IOException {
        ByteBuffer t = peek(file, METADATA, 64 * 1024);
        int count = Short.toUnsignedInt(t.getShort(10));
        int e = 32 + 32 * count;
        putGuid(t, e, id);
        t.putInt(e + 16, 512 * 1024).putInt(e + 20, 16).putInt(e + 24, flags | (user ? 1 : 0));
        t.putShort(10, (short) (count + 1));
        poke(file, METADATA, t.array());
    }

    @Test
    void metadataItemOutsideTheRegion() throws IOException {
        ByteBuffer t = peek(file, METADATA, 64);
        t.putInt(32 + 16, (int) MIB - 4); // the file parameters item now runs past the 1 MiB region
        poke(file, METADATA, t.array());
        assertRefused("metadata item", "outside the region");
    }

    @Test
    void blockSizeOutOfRange() throws IOException {
        for (int bad : new int[] {512 * 1024, 3 * MIB, 512 * MIB}) {
            poke(file, fileParameters(), ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, bad).array());
            assertRefused("block size " + bad);
        }
    }

    @Test
    void missingRequiredItemAndBadSectorSize() throws IOException {
        long params = fileParameters();
        // logical sector size item: the 4th item written by createDynamic
        ByteBuffer t = peek(file, METADATA, 32 + 32 * 5);
        long lss = METADATA + Integer.toUnsignedLong(t.getInt(32 + 32 * 3 + 16));
        poke(file, lss, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 1024).array());
        assertRefused("logical sector size 1024");
        t.putShort(10, (short) 2); // drop every item after the virtual disk size
        poke(file, METADATA, t.array());
        assertRefused("page 83 data", "missing");
        assertTrue(params > METADATA);
    }

    private long fileParameters() throws IOException {
        return METADATA + Integer.toUnsignedLong(peek(file, METADATA + 32 + 16, 4).getInt(0));
    }

    @Test
    void batEntryPastTheEndOfTheFile() throws IOException {
        pokeBat(1, (1L << 40) | 6); // FULLY_PRESENT at 1 TiB
        assertRefused("BAT entry 1", "past the end of the file");
    }

    @Test
    void batEntriesOverlapping() throws IOException {
        long entry0 = peek(file, BAT, 8).getLong(0);
        pokeBat(3, entry0); // block 3 claims block 0's space
        assertRefused("overlaps");
        pokeBat(3, METADATA | 6); // and the metadata region's
        assertRefused("overlaps", "metadata region");
        pokeBat(3, 6); // and the header section
        assertRefused("header section");
    }

    @Test
    void batEntryStates() throws IOException {
        pokeBat(5, 4);
        assertRefused("BAT entry 5", "reserved state 4");
        pokeBat(5, (7L * MIB) | 7);
        assertRefused("BAT entry 5", "partially present", "differencing");
    }

    private void pokeBat(int index, long entry) throws IOException {
        poke(file, BAT + 8L * index, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, entry).array());
    }

    @Test
    void differencingImageWithBadParentLinkage() throws IOException {
        Path child = dir.resolve("child.vhdx");
        VhdxImage.createDifferencing(child, file, VhdxCreateOptions.of(MIB).withBlockSize(MIB)).close();
        byte[] bytes = Files.readAllBytes(child);
        String linkage = "{" + readLinkage(child) + "}";
        byte[] needle = linkage.getBytes(java.nio.charset.StandardCharsets.UTF_16LE);
        int at = indexOf(bytes, needle);
        assertTrue(at > 0);
        poke(child, at + 2, "z".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        file = child;
        assertRefused("parent_linkage", "not a GUID");
    }

    private static UUID readLinkage(Path child) throws IOException {
        try (VhdxImage c = VhdxImage.open(child, true)) {
            return c.parent().orElseThrow().linkageId();
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
