package org.diskhost.frontend.nbd;

import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qemu-img and qemu-io against the server; results are checked on the disk itself, not only by the client. */
class QemuClientTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static void assertFilled(MemorySegment data, int value, String what) {
        for (long i = 0; i < data.byteSize(); i++) {
            if (data.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != (byte) value) {
                throw new AssertionError(what + ": byte " + i + " is " + data.get(
                        java.lang.foreign.ValueLayout.JAVA_BYTE, i) + ", expected " + (byte) value);
            }
        }
    }

    @Test
    void qemuImgInfoSeesTheSizeOverUnixSocketAndTcp() throws Exception {
        server.disk("mem", Disk.of(MemoryDisk.of(512, 8192)));
        String info = ExternalTools.ok(dir, "qemu-img", "info", "--output=json", server.uri("mem"));
        assertTrue(info.contains("\"virtual-size\": 4194304"), info);
        String tcp = ExternalTools.ok(dir, "qemu-img", "info", "--output=json", server.tcpUri("mem"));
        assertTrue(tcp.contains("\"virtual-size\": 4194304"), tcp);
    }

    @Test
    void qemuIoWritesReadsFlushesAndFuaLandOnTheDisk() throws Exception {
        MemoryDisk memory = MemoryDisk.of(512, 16 * 2048);
        Disk disk = Disk.of(memory);
        server.disk("mem", disk);
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("mem"),
                "-c", "write -P 0xab 0 1M",
                "-c", "write -f -P 0x5a 4M 64k",
                "-c", "write -P 0x11 1536 512",
                "-c", "flush",
                "-c", "read -P 0xab 0 1024",
                "-c", "read -P 0x11 1536 512",
                "-c", "read -P 0x5a 4M 64k");
        assertFilled(read(disk, 0, 2), 0xab, "pattern write");
        assertFilled(read(disk, 3, 1), 0x11, "sector 3");
        assertFilled(read(disk, 8192, 128), 0x5a, "FUA write");
        assertTrue(isZero(read(disk, 4096, 4096)), "nothing else written");
        // A failed pattern check fails qemu-io: the check above is not vacuous.
        ExternalTools.Result wrong = ExternalTools.run(dir, "qemu-io", "-f", "raw", server.uri("mem"), "-c", "read -P 0xcd 0 512");
        assertTrue(wrong.out().contains("Pattern verification failed"), wrong.out());
    }

    @Test
    void qemuIoUnalignedWritesAreReadModifyWriteInTheClientOrTheServer() throws Exception {
        Disk disk = Disk.of(MemoryDisk.of(4096, 256));
        server.disk("mem", disk);
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("mem"),
                "-c", "write -P 0x22 0 16k",
                "-c", "write -P 0x33 100 1000",
                "-c", "read -P 0x22 0 100",
                "-c", "read -P 0x33 100 1000",
                "-c", "read -P 0x22 1100 15284");
        MemorySegment data = read(disk, 0, 4);
        assertFilled(data.asSlice(0, 100), 0x22, "before");
        assertFilled(data.asSlice(100, 1000), 0x33, "unaligned write");
        assertFilled(data.asSlice(1100, 16384 - 1100), 0x22, "after");
    }

    @Test
    void discardAndWriteZeroesOnAFileDiskLeaveHolesOrZeros() throws Exception {
        Disk disk = server.fileDisk("file", "file.img", 16L * MIB);
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("file"),
                "-c", "write -P 0x77 0 8M",
                "-c", "discard 1M 1M",
                "-c", "write -z -u 3M 1M",
                "-c", "write -z 5M 1M",
                "-c", "read -P 0 1M 1M",
                "-c", "read -P 0 3M 1M",
                "-c", "read -P 0 5M 1M",
                "-c", "read -P 0x77 2M 1M");
        long perMiB = MIB / 512;
        assertTrue(isZero(read(disk, perMiB, perMiB)), "discarded");
        assertTrue(isZero(read(disk, 3 * perMiB, perMiB)), "zeroed with unmap");
        assertTrue(isZero(read(disk, 5 * perMiB, perMiB)), "zeroed without unmap");
        assertFilled(read(disk, 2 * perMiB, perMiB), 0x77, "kept");
        assertEquals(List.of(new AllocationExtent(perMiB, Allocation.HOLE)), disk.allocation(perMiB, perMiB).join(),
                "discard punched a hole");
        assertEquals(List.of(new AllocationExtent(perMiB, Allocation.HOLE)),
                disk.allocation(3 * perMiB, perMiB).join(), "write-zeroes with unmap punched a hole");
        assertEquals(List.of(new AllocationExtent(perMiB, Allocation.DATA)),
                disk.allocation(5 * perMiB, perMiB).join(), "write-zeroes with NO_HOLE kept the blocks");
    }

    @Test
    void fastZeroIsRefusedWhereZeroingMeansWriting() throws Exception {
        server.fileDisk("file", "file.img", 4L * MIB);
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("file"), "-c", "write -z -u -n 0 1M");
        // NO_HOLE and FAST_ZERO together cannot be fast here: the server says ENOTSUP and writes nothing.
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("file"), "-c", "write -P 0x44 1M 1M");
        ExternalTools.Result slow = ExternalTools.run(dir, "qemu-io", "-f", "raw", server.uri("file"), "-c", "write -z -n 1M 1M");
        assertTrue((slow.out() + slow.err()).contains("Operation not supported"), slow.out() + slow.err());
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("file"), "-c", "read -P 0x44 1M 1M");
    }

    @Test
    void convertAndCompareInBothDirections() throws Exception {
        Path source = dir.resolve("source.raw");
        byte[] content = new byte[8 * MIB];
        Random random = new Random(7);
        for (int chunk = 0; chunk < 8 * 16; chunk += 3) { // data with holes between
            byte[] piece = new byte[64 * 1024];
            random.nextBytes(piece);
            System.arraycopy(piece, 0, content, chunk * 64 * 1024, piece.length);
        }
        Files.write(source, content);
        server.fileDisk("target", "target.img", 8L * MIB);
        ExternalTools.ok(dir, "qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", source.toString(),
                server.uri("target"));
        ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), server.uri("target"));
        Path back = dir.resolve("back.raw");
        ExternalTools.ok(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", server.uri("target"), back.toString());
        assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(back)), "the copy back is identical");
        // compare notices a difference, so the success above means something
        try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
            f.seek(5 * MIB + 17);
            f.write(0x99);
        }
        ExternalTools.Result differs = ExternalTools.run(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(),
                server.uri("target"));
        assertEquals(1, differs.exit(), differs.out() + differs.err());
    }

    @Test
    void qemuImgMapShowsWhereTheDataIs() throws Exception {
        Disk disk = server.fileDisk("file", "map.img", 16L * MIB);
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", server.uri("file"), "-c", "write -P 1 2M 1M", "-c",
                "write -P 2 8M 2M");
        String map = ExternalTools.ok(dir, "qemu-img", "map", "--output=json", "-f", "raw", server.uri("file"));
        Matcher m = Pattern.compile("\"start\": (\\d+), \"length\": (\\d+), \"depth\": \\d+, "
                + "(?:\"present\": \\w+, )?\"zero\": (\\w+), \"data\": (\\w+)").matcher(map);
        long dataBytes = 0;
        long covered = 0;
        while (m.find()) {
            long start = Long.parseLong(m.group(1));
            long length = Long.parseLong(m.group(2));
            covered += length;
            if (m.group(4).equals("true")) {
                dataBytes += length;
                assertTrue((start >= 2 * MIB && start + length <= 3 * MIB)
                        || (start >= 8 * MIB && start + length <= 10 * MIB), "data only where written: " + map);
            } else {
                assertEquals("true", m.group(3), "a hole reads as zeros: " + map);
            }
        }
        assertEquals(16L * MIB, covered, map);
        assertEquals(3L * MIB, dataBytes, map);
        assertNotEquals(0, disk.sectorCount());
        assertFalse(map.isEmpty());
    }
}
