package org.diskhost.backend.vhd;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.diskhost.format.vhd.Guids;

/**
 * libvhdi, an independent VHD reader (its Python binding pyvhdi, run with {@code /usr/bin/python3}), reads the
 * dynamic images and differencing chains diskhost writes, and must read exactly what diskhost's model of the disk
 * says: qemu-img cannot make or read VHD differencing images, so this is the check of diskhost's chains.
 */
class LibvhdiInteropTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final int KIB = 1024;

    @TempDir
    Path dir;

    /** pyvhdi must be there; like {@link ExternalTools#require}, a missing one fails in CI and skips elsewhere. */
    @BeforeAll
    static void requirePyvhdi() throws Exception {
        boolean present = Files.isExecutable(PYTHON) && run(Path.of("."), List.of(PYTHON.toString(), "-c",
                "import pyvhdi")).exit() == 0;
        if (!present && System.getenv("CI") != null) {
            fail("/usr/bin/python3 with pyvhdi (Debian python3-libvhdi) is not installed; .ci/run installs it");
        }
        assumeTrue(present, "pyvhdi is not installed (Debian package python3-libvhdi)");
    }

    private static ExternalTools.Result run(Path dir, List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("vhdi", ".out");
        Path err = Files.createTempFile("vhdi", ".err");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", command) + " did not finish in 120 s");
            }
            return new ExternalTools.Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** What libvhdi reads: the chain's content, and one line per image (size, id, parent id, parent name). */
    private record Reading(byte[] content, List<String[]> images) {
    }

    private Reading libvhdi(String... chain) throws Exception {
        Path script = dir.resolve("vhdi_read.py");
        if (!Files.exists(script)) {
            try (InputStream in = getClass().getResourceAsStream("vhdi_read.py")) {
                Files.copy(in, script);
            }
        }
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), script.toString(), "libvhdi.raw"));
        command.addAll(List.of(chain));
        String out = run(dir, command).ok();
        List<String[]> images = out.lines().map(l -> l.split(" ")).toList();
        return new Reading(Files.readAllBytes(dir.resolve("libvhdi.raw")), images);
    }

    private Disk open(Map<String, Object> settings) {
        return VhdDisks.resolve("vhd", dir, settings);
    }

    /** Writes {@code data} at {@code sector} of the disk and of {@code expected}, the model of its content. */
    private static void write(Disk disk, byte[] expected, long sector, byte[] data) {
        VhdDisks.write(disk, sector, data);
        System.arraycopy(data, 0, expected, (int) (sector * 512), data.length);
    }

    /**
     * The unique id of {@code vhd} as libvhdi prints it: its 16 stored bytes in order (diskhost, like Windows, reads
     * them as a GUID with little-endian fields; the bytes, the disk id, are the same).
     */
    private static String id(Path vhd) throws IOException {
        try (VhdFile image = Images.openVhd(vhd, true)) {
            java.nio.ByteBuffer stored = java.nio.ByteBuffer.wrap(Guids.bytes(image.footer().uniqueId()));
            return new java.util.UUID(stored.getLong(0), stored.getLong(8)).toString();
        }
    }

    @Test
    void libvhdiReadsDiskhostsDynamicImages() throws Exception {
        Disk disk = open(Map.of("path", "dynamic.vhd", "create", "4 MiB", "blockSize", "64 KiB"));
        byte[] expected = new byte[(int) (disk.sectorCount() * 512)];
        try {
            write(disk, expected, 0, VhdDisks.pattern(3 * 512, 1)); // part of a block
            write(disk, expected, 120, VhdDisks.pattern(16 * KIB, 2)); // across a block boundary
            write(disk, expected, 2048, VhdDisks.pattern(256 * KIB, 3)); // whole blocks
            succeeds(disk.unmap(2048 + 128, 128, false)); // one whole 64 KiB block goes
            System.arraycopy(new byte[64 * KIB], 0, expected, (2048 + 128) * 512, 64 * KIB);
            write(disk, expected, disk.sectorCount() - 1, VhdDisks.pattern(512, 4)); // the last sector
            assertArrayEquals(expected, VhdDisks.read(disk, 0, expected.length), "diskhost's own reading");
        } finally {
            disk.close();
        }
        Reading r = libvhdi("dynamic.vhd");
        assertArrayEquals(expected, r.content());
        assertEquals(String.valueOf(expected.length), r.images().getFirst()[0]);
        assertEquals(id(dir.resolve("dynamic.vhd")), r.images().getFirst()[1]);
    }

    @Test
    void libvhdiReadsDiskhostsDifferencingChains() throws Exception {
        Disk base = open(Map.of("path", "base.vhd", "create", "2 MiB", "blockSize", "128 KiB"));
        byte[] expected = new byte[(int) (base.sectorCount() * 512)];
        try {
            write(base, expected, 0, VhdDisks.pattern(512 * KIB, 10));
            write(base, expected, 3000, VhdDisks.pattern(40 * 512, 11));
        } finally {
            base.close();
        }
        byte[] baseContent = expected.clone();
        Disk mid = open(Map.of("path", "mid.vhd", "parent", "base.vhd"));
        try {
            write(mid, expected, 7, VhdDisks.pattern(3 * 512, 20)); // inside a block the parent has
            write(mid, expected, 250, VhdDisks.pattern(20 * 512, 21)); // across a block boundary
            write(mid, expected, 3500, VhdDisks.pattern(8 * 512, 22)); // where the parent has nothing
            assertArrayEquals(expected, VhdDisks.read(mid, 0, expected.length));
        } finally {
            mid.close();
        }
        byte[] midContent = expected.clone();
        Disk top = open(Map.of("path", "sub/top.vhd", "parent", "mid.vhd"));
        try {
            write(top, expected, 8, VhdDisks.pattern(512, 30));
            write(top, expected, 3010, VhdDisks.pattern(4 * 512, 31));
            succeeds(top.unmap(0, 256, false)); // the top's first block goes: the parents show again
            System.arraycopy(midContent, 0, expected, 0, 256 * 512);
            assertArrayEquals(expected, VhdDisks.read(top, 0, expected.length));
        } finally {
            top.close();
        }

        Reading r = libvhdi("sub/top.vhd", "mid.vhd", "base.vhd");
        assertArrayEquals(expected, r.content(), "libvhdi reads the three-image chain as diskhost wrote it");
        assertEquals(id(dir.resolve("mid.vhd")), r.images().get(0)[2], "top records mid's unique id");
        assertEquals(id(dir.resolve("base.vhd")), r.images().get(1)[2], "mid records base's unique id");
        assertEquals("mid.vhd", r.images().get(0)[3]);
        assertArrayEquals(midContent, libvhdi("mid.vhd", "base.vhd").content());
        assertArrayEquals(baseContent, libvhdi("base.vhd").content());

        // diskhost finds the parents itself, through the relative locators, and reads the same.
        Disk reopened = open(Map.of("path", "sub/top.vhd", "readOnly", true));
        try {
            assertArrayEquals(expected, VhdDisks.read(reopened, 0, expected.length));
        } finally {
            reopened.close();
        }
        assertTrue(ExternalTools.ok(dir, "vhdiinfo", "sub/top.vhd").contains("Differential"));
    }

    @Test
    void libvhdiReadsADifferencingImageOverAFixedParent() throws Exception {
        Disk base = VhdDisks.resolve("vhd1", dir, Map.of("path", "fixed.vhd", "create", "1 MiB"));
        byte[] expected = new byte[(int) (base.sectorCount() * 512)];
        try {
            write(base, expected, 0, VhdDisks.pattern(expected.length, 40));
        } finally {
            base.close();
        }
        Disk child = open(Map.of("path", "overfixed.vhd", "parent", "fixed.vhd"));
        try {
            write(child, expected, 1, VhdDisks.pattern(512, 41));
            write(child, expected, 1500, VhdDisks.pattern(9 * 512, 42));
        } finally {
            child.close();
        }
        assertArrayEquals(expected, libvhdi("overfixed.vhd", "fixed.vhd").content());
    }
}
