package org.diskhost.backend.vhd;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.testkit.DiskAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.Guids;

/**
 * Dynamic and differencing VHDs: damaged files give clear errors (never a wrong read, never a hang), chains are
 * found and checked, the file after a crash at any point of a block's allocation opens consistently, deallocation
 * shrinks the file, and concurrent writes into one new block all land.
 */
@Timeout(60)
class DynamicVhdTest {
    private static final int KIB = 1024;
    private static final int BLOCK = 64 * KIB;

    @TempDir
    Path dir;

    private Disk open(Map<String, Object> settings) {
        return VhdDisks.resolve("vhd", dir, settings);
    }

    private String fails(Map<String, Object> settings) {
        String m = VhdDisks.failure("vhd", dir, settings);
        assertTrue(m.startsWith("disk 'test', kind 'vhd'"), m);
        return m;
    }

    /** A 1 MiB dynamic image with 64 KiB blocks and data in blocks 0 and 2; returns its bytes. */
    private byte[] image(String name) throws IOException {
        Disk disk = open(Map.of("path", name, "create", "1 MiB", "blockSize", "64 KiB"));
        try {
            VhdDisks.write(disk, 0, VhdDisks.pattern(BLOCK, 1));
            VhdDisks.write(disk, 2 * BLOCK / 512, VhdDisks.pattern(8 * KIB, 2));
        } finally {
            disk.close();
        }
        return Files.readAllBytes(dir.resolve(name));
    }

    private static void header(byte[] image, java.util.function.Consumer<ByteBuffer> change) {
        ByteBuffer h = ByteBuffer.wrap(image, 512, 1024).slice();
        change.accept(h);
        byte[] bytes = new byte[1024];
        h.get(0, bytes);
        h.putInt(36, VhdFooter.checksum(bytes, 1024, 36));
    }

    private static int batEntry(byte[] image, int block) {
        return ByteBuffer.wrap(image).getInt(1536 + 4 * block);
    }

    private static void setBatEntry(byte[] image, int block, int entry) {
        ByteBuffer.wrap(image).putInt(1536 + 4 * block, entry);
    }

    private String openFails(byte[] bytes) throws IOException {
        Files.write(dir.resolve("bad.vhd"), bytes);
        return fails(Map.of("path", "bad.vhd"));
    }

    @Test
    void damagedHeadersAreClearErrors() throws IOException {
        byte[] good = image("good.vhd");

        byte[] bad = good.clone();
        bad[512 + 100] ^= 1;
        assertTrue(openFails(bad).contains("dynamic disk header checksum is 0x"));

        bad = good.clone();
        header(bad, h -> h.put(0, "cxsparsX".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertTrue(openFails(bad).contains("no dynamic disk header: the cookie is \"cxsparsX\""));

        bad = good.clone();
        header(bad, h -> h.putInt(32, 3 * BLOCK));
        assertTrue(openFails(bad).contains("block size 196608 is not a power of two from 4 KiB to 256 MiB"));

        bad = good.clone();
        header(bad, h -> h.putInt(28, 3));
        assertTrue(openFails(bad).contains("3 BAT entries of 65536-byte blocks cannot hold the disk's"));

        bad = good.clone();
        long past = bad.length - 100;
        header(bad, h -> h.putLong(16, past));
        String m = openFails(bad);
        assertTrue(m.contains("the BAT (17 entries at byte " + past + ") is not inside the file's"), m);

        bad = good.clone();
        header(bad, h -> h.putInt(24, 0x0002_0000));
        assertTrue(openFails(bad).contains("unsupported dynamic disk header version 0x20000"));
    }

    @Test
    void badBatEntriesAreClearErrors() throws IOException {
        byte[] good = image("good.vhd");

        byte[] bad = good.clone();
        setBatEntry(bad, 5, (good.length - 512) / 512); // where the footer is: the block would run past the end
        String m = openFails(bad);
        assertTrue(m.contains("BAT entry 5 points to byte " + (good.length - 512) + ", but that block ends at byte"),
                m);
        assertTrue(m.contains("past the end of the file's " + (good.length - 512) + " bytes of data"), m);

        bad = good.clone();
        setBatEntry(bad, 5, 3); // into the header
        assertTrue(openFails(bad).contains("BAT entry 5 points to byte 1536, into the image's own metadata"));

        bad = good.clone();
        setBatEntry(bad, 5, batEntry(good, 0) + 1); // overlapping block 0
        assertTrue(openFails(bad).contains("two BAT entries point to overlapping blocks"));
    }

    @Test
    void truncatedFilesAreClearErrors() throws IOException {
        byte[] good = image("good.vhd");
        // Cut inside the data, the header, and before any header: each a clear error, never a read of garbage.
        for (int length : new int[] {good.length - 600, 2000, 1200, 600, 0}) {
            String m = openFails(Arrays.copyOf(good, length));
            assertTrue(m.contains("bad.vhd"), m);
        }
        // Without the end footer (cut right before it), the copy at offset 0 says where things are, but the blocks
        // that reach past the end are refused.
        String m = openFails(Arrays.copyOf(good, good.length - 512 - BLOCK));
        assertTrue(m.contains("past the end of the file's"), m);
    }

    /** A crash after the new block was written but before the footer moved: the footer copy at 0 opens it. */
    @Test
    void aLostEndFooterIsRecoveredFromTheCopyAtTheStart() throws IOException {
        byte[] good = image("good.vhd");
        byte[] crashed = good.clone();
        Arrays.fill(crashed, crashed.length - 512, crashed.length, (byte) 0); // as if the bitmap overwrote it
        Files.write(dir.resolve("crashed.vhd"), crashed);
        Disk disk = open(Map.of("path", "crashed.vhd"));
        try {
            assertArrayEquals(VhdDisks.pattern(BLOCK, 1), VhdDisks.read(disk, 0, BLOCK));
            VhdDisks.write(disk, 5 * BLOCK / 512, VhdDisks.pattern(KIB, 3)); // a new block, after the damaged end
        } finally {
            disk.close();
        }
        byte[] after = Files.readAllBytes(dir.resolve("crashed.vhd"));
        assertArrayEquals(Arrays.copyOf(good, 512), Arrays.copyOfRange(after, after.length - 512, after.length),
                "a footer at the end again");
        Disk reopened = open(Map.of("path", "crashed.vhd", "readOnly", true));
        try {
            assertArrayEquals(VhdDisks.pattern(KIB, 3), VhdDisks.read(reopened, 5 * BLOCK / 512, KIB));
        } finally {
            reopened.close();
        }
    }

    /** A crash before the BAT pointed at a new block: the block is leaked, never read, never reused. */
    @Test
    void anOrphanedBlockIsNeitherReadNorReused() throws IOException {
        byte[] good = image("good.vhd");
        byte[] orphan = VhdDisks.pattern(BLOCK + 512, 9); // a bitmap and data nobody points at
        byte[] crashed = new byte[good.length + orphan.length];
        System.arraycopy(good, 0, crashed, 0, good.length - 512);
        System.arraycopy(orphan, 0, crashed, good.length - 512, orphan.length);
        System.arraycopy(good, good.length - 512, crashed, crashed.length - 512, 512);
        Files.write(dir.resolve("orphan.vhd"), crashed);
        Disk disk = open(Map.of("path", "orphan.vhd"));
        try {
            assertArrayEquals(new byte[BLOCK], VhdDisks.read(disk, 4 * BLOCK / 512, BLOCK));
            VhdDisks.write(disk, 4 * BLOCK / 512, VhdDisks.pattern(512, 4));
            byte[] back = VhdDisks.read(disk, 4 * BLOCK / 512, BLOCK);
            assertArrayEquals(VhdDisks.pattern(512, 4), Arrays.copyOf(back, 512));
            assertArrayEquals(new byte[BLOCK - 512], Arrays.copyOfRange(back, 512, BLOCK), "no orphaned bytes show");
        } finally {
            disk.close();
        }
        assertEquals(crashed.length + BLOCK + 512, Files.size(dir.resolve("orphan.vhd")), "appended after it");
    }

    @Test
    void deallocatingTheLastBlocksShrinksTheFileAndUnmapReadsZeros() throws IOException {
        image("shrink.vhd");
        long before = Files.size(dir.resolve("shrink.vhd"));
        Disk disk = open(Map.of("path", "shrink.vhd"));
        try {
            assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
            assertEquals(BLOCK / 512, disk.optimalUnmapSectors());
            // Part of block 0, and blocks 1 (never written) and 2 whole: block 2 goes, block 0's sectors are zeroed.
            succeeds(disk.unmap(64, 320, false));
            assertArrayEquals(new byte[320 * 512], VhdDisks.read(disk, 64, 320 * 512));
            assertArrayEquals(Arrays.copyOf(VhdDisks.pattern(BLOCK, 1), 64 * 512), VhdDisks.read(disk, 0, 64 * 512));
            assertEquals(List.of(new AllocationExtent(128, Allocation.DATA), new AllocationExtent(1920,
                    Allocation.HOLE)), succeeds(disk.allocation(0, 2048)));
        } finally {
            disk.close();
        }
        assertEquals(before - BLOCK - 512, Files.size(dir.resolve("shrink.vhd")), "the last block is cut off");
    }

    @Test
    void chainsAreFoundByTheirLocatorsAndChecked() throws IOException {
        image("base.vhd");
        open(Map.of("path", "child.vhd", "parent", "base.vhd")).close();
        Files.createDirectories(dir.resolve("moved"));
        // The relative locator wins: a moved pair still opens.
        Files.copy(dir.resolve("base.vhd"), dir.resolve("moved/base.vhd"));
        Files.copy(dir.resolve("child.vhd"), dir.resolve("moved/child.vhd"));
        Disk disk = open(Map.of("path", "moved/child.vhd", "readOnly", true));
        try {
            assertArrayEquals(VhdDisks.pattern(BLOCK, 1), VhdDisks.read(disk, 0, BLOCK));
            assertEquals(UnmapBehavior.IGNORED, disk.unmapBehavior(), "read-only");
        } finally {
            disk.close();
        }

        // A missing parent: every candidate tried is named.
        Files.delete(dir.resolve("moved/base.vhd"));
        Files.move(dir.resolve("base.vhd"), dir.resolve("elsewhere.vhd"));
        String m = fails(Map.of("path", "moved/child.vhd"));
        assertTrue(m.contains("its parent (linkage id "), m);
        assertTrue(m.contains("is missing; tried " + dir.resolve("moved/base.vhd") + ", " + dir.resolve("base.vhd")),
                m);

        // A parent replaced by another image: the linkage id differs.
        image("base.vhd");
        m = fails(Map.of("path", "child.vhd"));
        assertTrue(m.contains("has linkage id ") && m.contains("but the child was made from"), m);

        // A raw parent is refused.
        Files.write(dir.resolve("base.vhd"), new byte[4096]);
        m = fails(Map.of("path", "child.vhd"));
        assertTrue(m.contains("neither a VHD nor a VHDX"), m);
    }

    /** Points the differencing image {@code child} at the image {@code parent}'s unique id. */
    private void recordParentId(String child, String parent) throws IOException {
        java.util.UUID id;
        try (VhdFile p = Images.openVhd(dir.resolve(parent), true)) {
            id = p.footer().uniqueId();
        }
        byte[] bytes = Files.readAllBytes(dir.resolve(child));
        header(bytes, h -> {
            byte[] stored = Guids.bytes(id);
            h.put(40, stored);
        });
        Files.write(dir.resolve(child), bytes);
    }

    /** Crafted files (linkage ids that match in a loop) that a cycle check must stop. */
    @Test
    void circularChainsAreRefused() throws IOException {
        image("p.vhd");
        open(Map.of("path", "a.vhd", "parent", "p.vhd")).close();
        open(Map.of("path", "b.vhd", "parent", "a.vhd")).close();
        // a's parent becomes b: a -> b -> a.
        Files.delete(dir.resolve("p.vhd"));
        Files.createSymbolicLink(dir.resolve("p.vhd"), dir.resolve("b.vhd"));
        recordParentId("a.vhd", "b.vhd");
        String m = fails(Map.of("path", "a.vhd"));
        assertTrue(m.contains("circular parent chain: " + dir.resolve("a.vhd") + " -> " + dir.resolve("b.vhd")
                + " -> " + dir.resolve("a.vhd")), m);
        m = fails(Map.of("path", "b.vhd"));
        assertTrue(m.contains("circular parent chain"), m);

        // An image that is its own parent.
        image("q.vhd");
        open(Map.of("path", "self.vhd", "parent", "q.vhd")).close();
        Files.delete(dir.resolve("q.vhd"));
        Files.createSymbolicLink(dir.resolve("q.vhd"), dir.resolve("self.vhd"));
        recordParentId("self.vhd", "self.vhd");
        m = fails(Map.of("path", "self.vhd"));
        assertTrue(m.contains("circular parent chain: " + dir.resolve("self.vhd") + " -> " + dir.resolve("self.vhd")),
                m);
    }

    /** Many writes at once into sectors of blocks that do not exist yet, unaligned, over a parent: all land. */
    @Test
    void concurrentWritesIntoNewBlocksAllLand() throws IOException {
        image("cbase.vhd");
        for (Map<String, Object> spec : List.<Map<String, Object>>of(
                Map.of("path", "cdyn.vhd", "create", "1 MiB", "blockSize", "64 KiB"),
                Map.of("path", "cdiff.vhd", "parent", "cbase.vhd"))) {
            Disk disk = open(spec);
            byte[] expected = VhdDisks.read(disk, 0, (int) disk.sectorCount() * 512);
            try {
                List<CompletableFuture<Void>> writes = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    long sector = (i * 37L) % (disk.sectorCount() - 3);
                    int count = 1 + i % 3;
                    byte[] data = VhdDisks.pattern(count * 512, 1000 + i);
                    System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
                    writes.add(disk.writeVectored(RequestBuffers.of(java.lang.foreign.MemorySegment.ofArray(data),
                            false), sector, false));
                    if (i % 37 == 36) { // overlapping requests: wait, so the order is known
                        writes.forEach(DiskAssertions::succeeds);
                        writes.clear();
                    }
                }
                writes.forEach(DiskAssertions::succeeds);
                assertArrayEquals(expected, VhdDisks.read(disk, 0, expected.length), spec.toString());
            } finally {
                disk.close();
            }
            Disk reopened = open(Map.of("path", spec.get("path"), "readOnly", true));
            try {
                assertArrayEquals(expected, VhdDisks.read(reopened, 0, expected.length), "after reopening " + spec);
            } finally {
                reopened.close();
            }
        }
    }

    @Test
    void theBitmapsOfWritesIntoExistingBlocksAreWrittenByFlush() throws IOException {
        image("flush.vhd");
        Disk disk = open(Map.of("path", "flush.vhd"));
        try {
            VhdDisks.write(disk, 2 * BLOCK / 512 + 40, VhdDisks.pattern(512, 7)); // block 2 exists: a new bit
            // Another reader of the file does not see the sector yet: its bit is only in memory.
            try (DynamicVhd other = DynamicVhd.open(dir.resolve("flush.vhd"), true)) {
                assertEquals(ImageFile.Extent.State.ABSENT, other.extentAt(2L * BLOCK + 40 * 512, 512).state());
            }
            succeeds(disk.syncCache());
            try (DynamicVhd other = DynamicVhd.open(dir.resolve("flush.vhd"), true)) {
                assertEquals(ImageFile.Extent.State.PRESENT, other.extentAt(2L * BLOCK + 40 * 512, 512).state());
                ByteBuffer back = ByteBuffer.allocate(512);
                other.read(2L * BLOCK + 40 * 512, back);
                assertArrayEquals(VhdDisks.pattern(512, 7), back.array());
            }
        } finally {
            disk.close();
        }
    }

    @Test
    void settingsErrorsNameTheSetting() throws IOException {
        assertTrue(fails(Map.of("path", "x.vhd")).contains("no such file: " + dir.resolve("x.vhd")
                + " (set 'create' to create it)"));
        assertTrue(fails(Map.of("path", "x.vhd", "create", "1 MiB", "parent", "p.vhd"))
                .contains("setting 'parent': give either 'create'"));
        assertTrue(fails(Map.of("path", "x.vhd", "create", "1 MiB", "blockSize", "3000"))
                .contains("setting 'blockSize': must be a power of two from 4 KiB to 256 MiB, got 3000"));
        assertTrue(fails(Map.of("path", "x.vhd", "create", 1000))
                .contains("setting 'create': must be a positive multiple of 512 bytes"));
        assertTrue(fails(Map.of("path", "x.vhd", "create", "1 MiB", "format", "qcow2"))
                .contains("setting 'format': must be \"vhd\" or \"vhdx\", got \"qcow2\""));
        assertTrue(fails(Map.of("path", "x.vhd", "parent", "nothere.vhd"))
                .contains("setting 'parent': no such file: " + dir.resolve("nothere.vhd")));
        assertTrue(fails(Map.of("path", "x.vhd", "colour", "blue")).contains("setting 'colour': unknown setting"));
        String ro = VhdDisks.resolveAsync("vhd", dir, Map.of("path", "x.vhd", "create", "1 MiB"), true)
                .handle((d, e) -> e.getMessage()).join();
        assertTrue(ro.contains("setting 'create': cannot create " + dir.resolve("x.vhd") + " for a read-only disk"),
                ro);
        assertTrue(VhdDisks.failure("vhd1", dir, Map.of("path", "y.vhd", "fromRaw", true, "readOnly", true))
                .contains("setting 'fromRaw': appends a footer"));
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("odd.img").toFile(), "rw")) {
            f.setLength(1000);
        }
        assertTrue(VhdDisks.failure("vhd1", dir, Map.of("path", "odd.img", "fromRaw", true))
                .contains("a raw file becomes a fixed VHD only when its length is a positive multiple of 512"));
    }
}
