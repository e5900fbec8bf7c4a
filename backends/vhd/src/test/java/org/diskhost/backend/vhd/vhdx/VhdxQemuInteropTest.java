package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.readChain;
import static org.diskhost.testkit.ExternalTools.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.diskhost.backend.vhd.ImageFile.Extent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Interop with qemu in both directions: images qemu made and wrote, and images diskhost made and wrote. */
class VhdxQemuInteropTest {
    @TempDir
    Path dir;

    /**
     * qemu-img creates (dynamic or fixed, several block sizes), qemu-io writes patterns (across block boundaries,
     * unaligned to blocks); VhdxImage reads exactly what {@code qemu-img convert -O raw} produces.
     */
    @ParameterizedTest(name = "{0}, block_size={1}, block_state_zero={2}")
    @CsvSource({"dynamic, 0, on", "dynamic, 1M, off", "dynamic, 8M, on", "fixed, 1M, on"})
    void qemuWritesVhdxImageReads(String subformat, String blockSize, String blockStateZero) throws Exception {
        Path img = dir.resolve("q.vhdx");
        ok(dir, "qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=" + subformat + ",block_size=" + blockSize
                + ",block_state_zero=" + blockStateZero, img.toString(), "40M");
        ok(dir, "qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 0 64k", "-c", "write -P 0xa5 1020k 8k",
                "-c", "write -P 0x11 9M 3M", "-c", "write -P 0x22 40956k 4k", "-c", "write -z 9728k 512k",
                img.toString());
        byte[] raw = toRaw(img, 40 * MIB);
        try (VhdxImage image = VhdxImage.open(img, true)) {
            assertEquals(40L * MIB, image.virtualSize());
            assertEquals(512, image.logicalSectorSize());
            assertContent(raw, image);
        }
        // After a writable open (which renews the write GUIDs) qemu still accepts the file.
        VhdxImage.open(img, false).close();
        ok(dir, "qemu-img", "check", "-q", "-f", "vhdx", img.toString());
    }

    /** qemu-img's default block size for a 6 GiB image, data written past 4 GiB and at the very end. */
    @Test
    void qemuSparseLargerThan4GiB() throws Exception {
        Path img = dir.resolve("big.vhdx");
        long size = 6L << 30;
        ok(dir, "qemu-img", "create", "-q", "-f", "vhdx", img.toString(), "6G");
        ok(dir, "qemu-io", "-f", "vhdx", "-c", "write -P 0x42 4095M 2M", "-c", "write -P 0x43 6143M 1M",
                img.toString());
        try (VhdxImage image = VhdxImage.open(img, true)) {
            assertEquals(size, image.virtualSize());
            byte[] expect = new byte[2 * MIB];
            java.util.Arrays.fill(expect, (byte) 0x42);
            assertArrayEquals(expect, readChain(4095L * MIB, 2 * MIB, image));
            java.util.Arrays.fill(expect, 0, MIB, (byte) 0x43);
            assertArrayEquals(java.util.Arrays.copyOf(expect, MIB), readChain(size - MIB, MIB, image));
            assertArrayEquals(new byte[MIB], readChain(2L << 30, MIB, image));
        }
    }

    /**
     * VhdxImage creates and writes (random writes and deallocations); {@code qemu-img check} passes and
     * {@code qemu-img compare} finds the expected raw content; then qemu-io writes into the image and VhdxImage reads
     * qemu's data back.
     */
    @ParameterizedTest(name = "sector {0}, block {1} MiB")
    @CsvSource({"512, 32", "512, 1", "512, 8"}) // qemu 7.2 opens only 512-byte logical sectors; libvhdi checks 4096
    void vhdxImageWritesQemuReads(int sector, int blockMiB) throws Exception {
        long size = 48L * MIB + 8 * 4096;
        Path img = dir.resolve("d.vhdx");
        byte[] model = VhdxTesting.randomDynamic(img, size, sector, blockMiB, sector + blockMiB, 120);
        Path expected = dir.resolve("expected.raw");
        Files.write(expected, model);
        ok(dir, "qemu-img", "check", "-q", "-f", "vhdx", img.toString());
        String info = ok(dir, "qemu-img", "info", "--output=json", img.toString());
        assertTrue(info.contains("\"virtual-size\": " + size), info);
        ok(dir, "qemu-img", "compare", "-q", "-f", "vhdx", "-F", "raw", img.toString(), expected.toString());

        ok(dir, "qemu-io", "-f", "vhdx", "-c", "write -P 0x77 " + (5 * MIB + 4096) + " 128k", img.toString());
        java.util.Arrays.fill(model, 5 * MIB + 4096, 5 * MIB + 4096 + 128 * 1024, (byte) 0x77);
        try (VhdxImage image = VhdxImage.open(img, false)) {
            assertContent(model, image);
            assertEquals(Extent.State.PRESENT, image.extentAt(5 * MIB + 4096, 4096).state());
        }
    }

    /** A sparse 6 GiB image diskhost wrote past 4 GiB: qemu-img check and compare agree. */
    @Test
    void vhdxImageSparseLargerThan4GiB() throws Exception {
        long size = 6L << 30;
        Path img = dir.resolve("big.vhdx");
        try (VhdxImage image = VhdxImage.createDynamic(img, VhdxCreateOptions.of(size))) {
            image.write(size - 4096, ByteBuffer.wrap(VhdxTesting.pattern(4096, 5)));
            image.write((4L << 30) - 512, ByteBuffer.wrap(VhdxTesting.pattern(1024, 6)));
        }
        ok(dir, "qemu-img", "check", "-q", "-f", "vhdx", img.toString());
        ok(dir, "qemu-io", "-f", "vhdx", "-c", "read -P 0 0 1M", img.toString());
        Path raw = dir.resolve("big.raw");
        ok(dir, "qemu-img", "convert", "-f", "vhdx", "-O", "raw", img.toString(), raw.toString());
        assertEquals(size, Files.size(raw));
        assertArrayEquals(VhdxTesting.pattern(4096, 5), VhdxTesting.peek(raw, size - 4096, 4096).array());
        assertArrayEquals(VhdxTesting.pattern(1024, 6), VhdxTesting.peek(raw, (4L << 30) - 512, 1024).array());
    }

    private byte[] toRaw(Path img, int size) throws Exception {
        Path raw = dir.resolve(img.getFileName() + ".raw");
        ok(dir, "qemu-img", "convert", "-f", "vhdx", "-O", "raw", img.toString(), raw.toString());
        byte[] bytes = Files.readAllBytes(raw);
        assertEquals(size, bytes.length);
        return bytes;
    }

}
