package org.diskhost.backend.vhd;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.ExternalTools.ok;
import static org.diskhost.testkit.ExternalTools.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.diskhost.format.vhd.VhdFooter;

/**
 * Interoperability with qemu's VHD driver ({@code vpc}) in both directions: images qemu-img and qemu-io make and
 * write read the same through diskhost as qemu's own raw conversion; images diskhost makes and writes have the size
 * qemu-img info reports and compare equal ({@code qemu-img compare}) to the raw content they should hold. qemu-img
 * check does not support vpc, so info and compare are the checks.
 */
class QemuInteropTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private Disk open(String kind, Map<String, Object> settings) {
        return VhdDisks.resolve(kind, dir, settings);
    }

    private long qemuVirtualSize(String file) throws Exception {
        String json = ok(dir, "qemu-img", "info", "-f", "vpc", "--output=json", file);
        Matcher m = Pattern.compile("\"virtual-size\":\\s*(\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    private void assertQemuCompareEqual(String vhd, String raw) throws Exception {
        ExternalTools.Result r = run(dir, "qemu-img", "compare", "-f", "vpc", "-F", "raw", vhd, raw);
        assertEquals(0, r.exit(), "qemu-img compare " + vhd + " " + raw + ":\n" + r.out() + r.err());
    }

    /** The whole disk, read through diskhost, equals {@code raw}. */
    private static void assertSameContent(Disk disk, Path raw) throws IOException {
        byte[] expected = Files.readAllBytes(raw);
        assertEquals(expected.length, disk.sectorCount() * 512, "size");
        assertArrayEquals(expected, VhdDisks.read(disk, 0, expected.length));
    }

    /** Writes {@code data} at {@code offset} of the raw file, which holds what the image should. */
    private static void writeRaw(Path raw, long offset, byte[] data) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.seek(offset);
            f.write(data);
        }
    }

    private static void sparseRaw(Path raw, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    @Test
    void qemuFixedImagesReadLikeQemusRawConversion() throws Exception {
        ok(dir, "qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", "fixed.vhd", "10M");
        ok(dir, "qemu-io", "-f", "vpc", "-c", "write -P 0xab 1M 64k", "-c", "write -P 0x5c 10000k 3k", "fixed.vhd");
        ok(dir, "qemu-img", "convert", "-f", "vpc", "-O", "raw", "fixed.vhd", "fixed.raw");
        Disk disk = open("vhd1", Map.of("path", "fixed.vhd", "readOnly", true));
        try {
            assertEquals(qemuVirtualSize("fixed.vhd"), disk.sectorCount() * 512, "qemu's CHS-rounded size");
            assertSameContent(disk, dir.resolve("fixed.raw"));
        } finally {
            disk.close();
        }
        Disk detected = open("vhd", Map.of("path", "fixed.vhd", "readOnly", true));
        try {
            assertEquals("vhd-fixed", ((ChainDisk) detected.backend()).chain().getFirst().format());
            assertSameContent(detected, dir.resolve("fixed.raw"));
        } finally {
            detected.close();
        }
    }

    @Test
    void diskhostFixedImagesHaveQemusSizeAndContent() throws Exception {
        long asked = 3 * MIB + 7 * 512; // not a CHS size: rounded up to one, as qemu does
        long size = VhdFooter.chsRoundedSize(asked);
        assertTrue(size >= asked && size < asked + 16 * 255 * 512, "rounded up by less than a cylinder: " + size);
        Disk disk = open("vhd1", Map.of("path", "made.vhd", "create", asked));
        assertEquals(size, disk.sectorCount() * 512);
        Path raw = dir.resolve("made.raw");
        sparseRaw(raw, size);
        try {
            byte[] a = VhdDisks.pattern(64 * 1024, 1);
            VhdDisks.write(disk, 0, a);
            writeRaw(raw, 0, a);
            byte[] b = VhdDisks.pattern(7 * 512, 2);
            VhdDisks.write(disk, size / 512 - 7, b);
            writeRaw(raw, size - 7 * 512, b);
        } finally {
            disk.close();
        }
        assertEquals(size, qemuVirtualSize("made.vhd"));
        assertQemuCompareEqual("made.vhd", "made.raw");

        Path adopted = dir.resolve("adopted.img");
        byte[] content = VhdDisks.pattern((int) (2 * MIB), 3);
        Files.write(adopted, content);
        long adoptedSize = VhdFooter.chsRoundedSize(2 * MIB);
        sparseRaw(dir.resolve("adopted.raw"), adoptedSize);
        writeRaw(dir.resolve("adopted.raw"), 0, content);
        open("vhd1", Map.of("path", "adopted.img", "fromRaw", true)).close();
        assertEquals(adoptedSize + 512, Files.size(adopted), "zeros to a CHS size, then a footer appended");
        assertEquals(adoptedSize, qemuVirtualSize("adopted.img"));
        assertQemuCompareEqual("adopted.img", "adopted.raw");
    }

    @Test
    void qemuDynamicImagesReadLikeQemusRawConversion() throws Exception {
        ok(dir, "qemu-img", "create", "-q", "-f", "vpc", "dynamic.vhd", "64M");
        ok(dir, "qemu-io", "-f", "vpc", "-c", "write -P 0xab 1M 64k", "-c", "write -P 0xcd 2044k 8k",
                "-c", "write -P 0x11 40M 1M", "-c", "write -z 40M 4k", "dynamic.vhd");
        ok(dir, "qemu-img", "convert", "-f", "vpc", "-O", "raw", "dynamic.vhd", "dynamic.raw");
        Disk disk = open("vhd", Map.of("path", "dynamic.vhd"));
        try {
            assertEquals(qemuVirtualSize("dynamic.vhd"), disk.sectorCount() * 512);
            assertSameContent(disk, dir.resolve("dynamic.raw"));
            // A block qemu never wrote is a hole; qemu marks every sector of a block it allocates present.
            assertEquals(List.of(new AllocationExtent(4096, Allocation.DATA)), succeeds(disk.allocation(0, 4096)));
            assertEquals(List.of(new AllocationExtent(4096, Allocation.HOLE)), succeeds(disk.allocation(8192, 4096)));
            // And diskhost writes into qemu's image, which qemu then reads.
            byte[] more = VhdDisks.pattern(12 * 1024, 9);
            VhdDisks.write(disk, 30 * 2048, more);
            writeRaw(dir.resolve("dynamic.raw"), 30 * MIB, more);
        } finally {
            disk.close();
        }
        assertQemuCompareEqual("dynamic.vhd", "dynamic.raw");
    }

    /** Sparse beyond 4 GiB, with blocks of 512 KiB (not qemu's 2 MiB), written, unmapped and read by qemu. */
    @Test
    void diskhostDynamicImagesLargerThan4GiBWithSmallBlocksCompareEqual() throws Exception {
        long size = VhdFooter.chsRoundedSize(5L << 30);
        Disk disk = open("vhd", Map.of("path", "big.vhd", "create", "5 GiB", "blockSize", "512 KiB"));
        assertEquals(size, disk.sectorCount() * 512);
        Path raw = dir.resolve("big.raw");
        sparseRaw(raw, size);
        long[] offsets = {0, 511 * 1024, 3L << 30, (4L << 30) + 512, size - 16 * 1024};
        try {
            for (int i = 0; i < offsets.length; i++) {
                byte[] data = VhdDisks.pattern(16 * 1024, 100 + i);
                VhdDisks.write(disk, offsets[i] / 512, data);
                writeRaw(raw, offsets[i], data);
            }
            // Unmap the whole block at 3 GiB: it goes from the file and reads as zeros.
            succeeds(disk.unmap((3L << 30) / 512, 1024, false));
            writeRaw(raw, 3L << 30, new byte[16 * 1024]);
            succeeds(disk.syncCache());
        } finally {
            disk.close();
        }
        assertEquals(size, qemuVirtualSize("big.vhd"));
        assertTrue(Files.size(dir.resolve("big.vhd")) < 8 * MIB, "sparse: " + Files.size(dir.resolve("big.vhd")));
        assertQemuCompareEqual("big.vhd", "big.raw");
    }

    /** qemu writes into an image diskhost made (1 MiB blocks); diskhost reads what qemu's raw conversion has. */
    @Test
    void qemuWritesIntoDiskhostsDynamicImages() throws Exception {
        Disk made = open("vhd", Map.of("path", "ours.vhd", "create", "16 MiB", "blockSize", "1 MiB"));
        VhdDisks.write(made, 0, VhdDisks.pattern(4096, 5));
        made.close();
        ok(dir, "qemu-io", "-f", "vpc", "-c", "write -P 0x3c 512 1k", "-c", "write -P 0x4d 3M 1536k",
                "-c", "write -P 0x5e 15M 4k", "ours.vhd");
        ok(dir, "qemu-img", "convert", "-f", "vpc", "-O", "raw", "ours.vhd", "ours.raw");
        Disk disk = open("vhd", Map.of("path", "ours.vhd", "readOnly", true));
        try {
            assertSameContent(disk, dir.resolve("ours.raw"));
        } finally {
            disk.close();
        }
    }

    @Test
    void qemuDynamicImagesLargerThan4GiBRead() throws Exception {
        ok(dir, "qemu-img", "create", "-q", "-f", "vpc", "large.vhd", "6G");
        ok(dir, "qemu-io", "-f", "vpc", "-c", "write -P 0x77 5G 128k", "-c", "write -P 0x78 4095M 2M", "large.vhd");
        Disk disk = open("vhd", Map.of("path", "large.vhd", "readOnly", true));
        try {
            assertEquals(qemuVirtualSize("large.vhd"), disk.sectorCount() * 512);
            assertArrayEquals(filled(128 * 1024, 0x77), VhdDisks.read(disk, (5L << 30) / 512, 128 * 1024));
            assertArrayEquals(filled(2 * (int) MIB, 0x78), VhdDisks.read(disk, (4095 * MIB) / 512, 2 * (int) MIB));
            assertArrayEquals(new byte[4096], VhdDisks.read(disk, (5L << 30) / 512 + 256, 4096));
        } finally {
            disk.close();
        }
    }

    /**
     * qemu rounds a vpc image's size up to a CHS geometry unless asked not to (force_size, which writes creator
     * "qem2"); either way the footer's current size is what qemu serves, and what diskhost serves.
     */
    @Test
    void qemusChsRoundingAndForcedSizesAreReadAsQemuReadsThem() throws Exception {
        for (String options : List.of("subformat=dynamic", "subformat=fixed", "subformat=dynamic,force_size=on",
                "subformat=fixed,force_size=on")) {
            String file = options.replace(',', '-').replace('=', '_') + ".vhd";
            ok(dir, "qemu-img", "create", "-q", "-f", "vpc", "-o", options, file, "10000000");
            long qemuSize = qemuVirtualSize(file);
            Disk disk = open("vhd", Map.of("path", file, "readOnly", true));
            try {
                assertEquals(qemuSize, disk.sectorCount() * 512, options);
            } finally {
                disk.close();
            }
            if (!options.contains("force_size")) {
                VhdFooter footer = ((VhdFile) Images.openVhd(dir.resolve(file), true)).footer();
                assertEquals(footer.geometry().sectors() * 512, qemuSize, "qemu's size is its CHS size");
                assertEquals(VhdFooter.Geometry.forSectors(qemuSize / 512), footer.geometry(),
                        "the specification's CHS algorithm gives qemu's geometry for qemu's size");
            }
        }
        // diskhost rounds up the same way, so qemu serves diskhost's size, fixed or dynamic.
        for (String kind : List.of("vhd", "vhd1")) {
            Disk made = open(kind, Map.of("path", kind + "-10M.vhd", "create", 10000000 / 512 * 512));
            long madeSize = made.sectorCount() * 512;
            made.close();
            assertEquals(qemuVirtualSize("subformat_dynamic.vhd"), madeSize, kind + ": qemu's size for 10000000");
            assertEquals(madeSize, qemuVirtualSize(kind + "-10M.vhd"), kind);
        }
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }
}
