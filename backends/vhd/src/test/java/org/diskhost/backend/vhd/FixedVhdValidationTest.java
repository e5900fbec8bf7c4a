package org.diskhost.backend.vhd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;

import org.diskhost.api.Disk;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.diskhost.format.vhd.VhdFooter;

/**
 * Kind {@code vhd1} opens a fixed VHD with the reference's checks in the reference's order (file size, cookie,
 * checksum, version, disk type, current size): each damage is reported with its own message naming the disk, the
 * kind and the file, and when two things are wrong the earlier check is the one reported.
 */
@Timeout(30)
class FixedVhdValidationTest {
    private static final int SIZE = 64 * 1024;

    @TempDir
    Path dir;

    private byte[] image;

    @BeforeEach
    void makeImage() throws IOException {
        FixedVhd.create(dir.resolve("good.vhd"), SIZE);
        image = Files.readAllBytes(dir.resolve("good.vhd"));
    }

    /** The failure of opening {@code bytes} as {@code vhd1}. */
    private String openFails(byte[] bytes) throws IOException {
        Files.write(dir.resolve("bad.vhd"), bytes);
        String message = VhdDisks.failure("vhd1", dir, Map.of("path", "bad.vhd"));
        assertTrue(message.startsWith("disk 'test', kind 'vhd1': " + dir.resolve("bad.vhd")), message);
        return message;
    }

    /** The image with its footer changed by {@code change}, the checksum fixed unless {@code fixChecksum} is false. */
    private byte[] withFooter(Consumer<ByteBuffer> change, boolean fixChecksum) {
        byte[] bytes = image.clone();
        ByteBuffer footer = ByteBuffer.wrap(bytes, bytes.length - 512, 512).slice();
        change.accept(footer);
        if (fixChecksum) {
            byte[] f = new byte[512];
            footer.get(0, f);
            footer.putInt(64, VhdFooter.checksum(f, 512, 64));
        }
        return bytes;
    }

    private static Consumer<ByteBuffer> cookie(String cookie) {
        return f -> f.put(0, cookie.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static Consumer<ByteBuffer> version(int version) {
        return f -> f.putInt(12, version);
    }

    private static Consumer<ByteBuffer> type(int type) {
        return f -> f.putInt(60, type);
    }

    private static Consumer<ByteBuffer> currentSize(long size) {
        return f -> f.putLong(48, size);
    }

    @Test
    void aGoodImageOpensWithTheFootersSizeAndIdentity() throws IOException {
        Disk disk = VhdDisks.resolve("vhd1", dir, Map.of("path", "good.vhd"));
        try {
            long size = VhdFooter.chsRoundedSize(SIZE);
            assertEquals(size / 512, disk.sectorCount());
            assertEquals(512, disk.sectorSize());
            assertEquals(512, disk.physicalSectorSize());
            assertEquals("vhd1", disk.diskType());
            byte[] storedId = Arrays.copyOfRange(image, image.length - 512 + 68, image.length - 512 + 84);
            assertArrayEquals(storedId, disk.diskId().orElseThrow().bytes(), "the disk id is the stored unique id");
            VhdFooter footer = VhdFooter.parse(Arrays.copyOfRange(image, image.length - 512, image.length), "");
            assertEquals(VhdFooter.Geometry.holding(size / 512), footer.geometry());
            assertEquals(VhdFooter.CREATOR, footer.creatorApplication());
            assertEquals(VhdFooter.FEATURES_RESERVED, footer.features());
            assertEquals(-1L, footer.dataOffset());
            Instant created = VhdFooter.EPOCH.plusSeconds(footer.timestamp());
            assertTrue(Duration.between(created, Instant.now()).abs().toMinutes() < 5, "timestamp " + created);
            assertEquals(4, footer.uniqueId().version(), "a random unique id");
        } finally {
            disk.close();
        }
    }

    @Test
    void writesNeverTouchTheFooter() throws IOException {
        byte[] footerBefore = Arrays.copyOfRange(image, image.length - 512, image.length);
        Disk disk = VhdDisks.resolve("vhd1", dir, Map.of("path", "good.vhd"));
        try {
            VhdDisks.write(disk, disk.sectorCount() - 2, VhdDisks.pattern(1024, 3));
        } finally {
            disk.close();
        }
        byte[] after = Files.readAllBytes(dir.resolve("good.vhd"));
        assertEquals(image.length, after.length);
        assertArrayEquals(footerBefore, Arrays.copyOfRange(after, after.length - 512, after.length));
    }

    @Test
    void check1TheFileSize() throws IOException {
        assertTrue(openFails(new byte[100]).contains("a multiple of 512 bytes, at least 512 (the footer), but the "
                + "file has 100 bytes"));
        // Not a multiple of 512, with a footer that is fine otherwise: the size is what is reported.
        byte[] longer = Arrays.copyOf(image, image.length + 1);
        assertTrue(openFails(longer).contains("but the file has " + longer.length + " bytes"));
    }

    @Test
    void check2TheCookie() throws IOException {
        String m = openFails(withFooter(cookie("conectiX"), false)); // the checksum is wrong too
        assertTrue(m.contains("no VHD footer: the cookie is \"conectiX\", not \"conectix\""), m);
        assertTrue(openFails(new byte[4096]).contains("the cookie is \"\\x00\\x00"), "a file of zeros");
    }

    @Test
    void check3TheChecksum() throws IOException {
        String m = openFails(withFooter(version(0x0002_0000), false)); // the version is wrong too
        assertTrue(m.contains("VHD footer checksum is 0x"), m);
        assertTrue(m.contains("(a damaged footer)"), m);
    }

    @Test
    void check4TheVersion() throws IOException {
        String m = openFails(withFooter(version(0x0002_0000).andThen(type(3)), true));
        assertTrue(m.contains("unsupported VHD version 0x20000 (only 0x10000, version 1.0, is defined)"), m);
    }

    @Test
    void check5TheDiskType() throws IOException {
        String m = openFails(withFooter(type(3).andThen(currentSize(1L << 40)), true));
        assertTrue(m.contains("a dynamic VHD, not a fixed one (kind 'vhd' serves dynamic and differencing VHDs)"), m);
        m = openFails(withFooter(type(4), true));
        assertTrue(m.contains("a differencing VHD, not a fixed one"), m);
        m = openFails(withFooter(type(7), true));
        assertTrue(m.contains("VHD disk type 7 is none of fixed (2), dynamic (3) and differencing (4)"), m);
    }

    @Test
    void check6TheCurrentSize() throws IOException {
        long room = image.length - 512;
        String m = openFails(withFooter(currentSize(room + 512), true));
        assertTrue(m.contains("current size " + (room + 512) + " is not a multiple of 512 that fits in the " + room
                + " bytes before the footer"), m);
        m = openFails(withFooter(currentSize(1000), true));
        assertTrue(m.contains("current size 1000 is not a multiple of 512"), m);
        m = openFails(withFooter(currentSize(-512), true));
        assertTrue(m.contains("current size " + Long.toUnsignedString(-512) + " is not"), m);
    }

    @Test
    void aSmallerCurrentSizeLeavesTheSlackUnused() throws IOException {
        Files.write(dir.resolve("slack.vhd"), withFooter(currentSize(32 * 1024), true));
        Disk disk = VhdDisks.resolve("vhd1", dir, Map.of("path", "slack.vhd"));
        try {
            assertEquals(64, disk.sectorCount());
        } finally {
            disk.close();
        }
    }

    @Test
    void theChsAlgorithmGivesTheSpecificationsGeometries() {
        // qemu's images of these sizes carry these geometries (qemu-img create -f vpc): 10M and 64M.
        assertEquals(new VhdFooter.Geometry(302, 4, 17), VhdFooter.Geometry.forSectors(20536));
        assertEquals(new VhdFooter.Geometry(302, 4, 17), VhdFooter.Geometry.holding(20480));
        assertEquals(new VhdFooter.Geometry(65535, 16, 255), VhdFooter.Geometry.forSectors(1L << 40));
        assertTrue(VhdFooter.Geometry.holding(1L << 32).isMax());
        assertEquals(200L << 30, VhdFooter.chsRoundedSize(200L << 30), "beyond the largest geometry: exact");
        for (long sectors = 1; sectors < 300_000; sectors += 997) {
            VhdFooter.Geometry g = VhdFooter.Geometry.holding(sectors);
            assertTrue(g.sectors() >= sectors && g.sectors() - sectors < 16 * 255, sectors + " -> " + g);
        }
    }
}
