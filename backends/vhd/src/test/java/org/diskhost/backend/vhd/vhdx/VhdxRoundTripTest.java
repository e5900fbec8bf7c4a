package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.pattern;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.readChain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.diskhost.backend.vhd.ImageFile;
import org.diskhost.backend.vhd.ImageFile.Extent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Random writes, reads and deallocations against an in-memory model, across reopen. */
class VhdxRoundTripTest {
    @TempDir
    Path dir;

    /** A dynamic image: random operations, each read compared with the model, then reopened and compared whole. */
    @ParameterizedTest(name = "sector {0}, block {1} MiB")
    @CsvSource({"512, 1", "4096, 1", "512, 8", "4096, 8", "512, 32"})
    void dynamicMatchesModel(int sector, int blockMiB) throws IOException {
        int block = blockMiB * MIB;
        long size = 3L * block + 7L * sector * 3; // a partial last block
        byte[] model = new byte[(int) size];
        Path file = dir.resolve("d.vhdx");
        VhdxCreateOptions options = VhdxCreateOptions.of(size).withBlockSize(block).withLogicalSectorSize(sector);
        try (VhdxImage image = VhdxImage.createDynamic(file, options)) {
            assertEquals(size, image.virtualSize());
            assertEquals(sector, image.logicalSectorSize());
            assertEquals(block, image.blockSize());
            assertTrue(image.parent().isEmpty());
            randomOperations(new Random(sector * 31L + blockMiB), image, model, null, 150);
            assertContent(model, image);
        }
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(model, image);
        }
        try (VhdxImage image = VhdxImage.open(file, false)) {
            randomOperations(new Random(7), image, model, null, 40);
        }
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(model, image);
        }
    }

    /** A differencing image over a dynamic parent: the chain reads the model; deallocation shows the parent again. */
    @ParameterizedTest(name = "sector {0}, block {1} MiB")
    @CsvSource({"512, 1", "4096, 2", "512, 32"})
    void differencingMatchesModel(int sector, int blockMiB) throws IOException {
        int block = blockMiB * MIB;
        long size = 4L * block + 5L * 4096;
        Path base = dir.resolve("base.vhdx");
        byte[] parentModel = new byte[(int) size];
        try (VhdxImage parent = VhdxImage.createDynamic(base,
                VhdxCreateOptions.of(size).withBlockSize(block).withLogicalSectorSize(sector))) {
            randomOperations(new Random(1), parent, parentModel, null, 40);
        }
        Path child = dir.resolve("sub").resolve("child.vhdx");
        Files.createDirectories(child.getParent());
        byte[] model = parentModel.clone();
        try (VhdxImage parent = VhdxImage.open(base, true);
                VhdxImage diff = VhdxImage.createDifferencing(child, base,
                        VhdxCreateOptions.of(size).withBlockSize(Math.max(MIB, block / 2)))) {
            assertEquals(size, diff.virtualSize());
            assertEquals(sector, diff.logicalSectorSize());
            assertEquals(parent.diskId(), diff.diskId(), "a fork is the same virtual disk");
            ImageFile.ParentReference ref = diff.parent().orElseThrow();
            assertEquals(List.of(base.toAbsolutePath().toString()), ref.candidatePaths(),
                    "relative_path and absolute_win32_path both lead to the parent");
            assertEquals(parent.linkageId(), ref.linkageId());
            assertEquals(base.toAbsolutePath().toString(), ref.candidatePaths().getFirst());
            assertContent(model, diff, parent);
            randomOperations(new Random(sector + blockMiB), diff, model, parentModel, 150);
            assertContent(model, diff, parent);
        }
        try (VhdxImage parent = VhdxImage.open(base, true); VhdxImage diff = VhdxImage.open(child, true)) {
            assertEquals(parent.linkageId(), diff.parent().orElseThrow().linkageId());
            assertContent(model, diff, parent);
        }
    }

    /**
     * Applies {@code count} random operations to {@code image} and {@code model}: writes (some sector-sized, some
     * spanning blocks), deallocations (whole blocks revert to zeros, or to {@code parentModel}), and reads checked
     * against the model.
     */
    static void randomOperations(Random rnd, VhdxImage image, byte[] model, byte[] parentModel, int count)
            throws IOException {
        int sector = image.logicalSectorSize();
        long sectors = model.length / sector;
        int block = image.blockSize();
        for (int i = 0; i < count; i++) {
            int op = rnd.nextInt(10);
            long first = rnd.nextLong(sectors);
            int maxSectors = (int) Math.min(sectors - first, op < 3 ? 4 : (2L * block + 3 * MIB) / sector);
            int n = 1 + rnd.nextInt(Math.max(1, maxSectors));
            long off = first * sector;
            int len = n * sector;
            if (op < 6) {
                byte[] data = pattern(len, rnd.nextLong());
                image.write(off, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, (int) off, len);
            } else if (op < 8) {
                long got = image.deallocate(off, len);
                long firstBlock = (off + block - 1) / block;
                long endBlock = off + len >= model.length ? (model.length + block - 1) / block : (off + len) / block;
                long expect = 0;
                for (long b = firstBlock; b < endBlock; b++) {
                    int from = (int) (b * block);
                    int to = (int) Math.min(model.length, from + (long) block);
                    if (parentModel == null) {
                        Arrays.fill(model, from, to, (byte) 0);
                    } else {
                        System.arraycopy(parentModel, from, model, from, to - from);
                    }
                    expect += to - from;
                }
                assertEquals(expect, got, "bytes deallocated at " + off + " length " + len);
            } else {
                byte[] got = parentModel == null ? readChain(off, len, image) : null;
                if (got != null) {
                    assertArrayEquals(Arrays.copyOfRange(model, (int) off, (int) off + len), got,
                            "read at " + off + " length " + len);
                }
                ByteBuffer direct = ByteBuffer.allocate(len);
                image.read(off, direct);
                assertFalse(direct.hasRemaining());
            }
        }
        image.flush();
    }

    /** A sparse 6 GiB disk: offsets past 4 GiB survive reopen, and the file holds only what was written. */
    @Test
    void sparseLargerThan4GiB() throws IOException {
        long size = 6L << 30;
        Path file = dir.resolve("big.vhdx");
        byte[] a = pattern(64 * 1024, 1);
        byte[] b = pattern(MIB, 2);
        long atA = (4L << 30) - 32 * 1024; // across the 4 GiB boundary
        long atB = size - MIB;
        try (VhdxImage image = VhdxImage.createDynamic(file, VhdxCreateOptions.of(size).withBlockSize(8 * MIB))) {
            image.write(atA, ByteBuffer.wrap(a));
            image.write(atB, ByteBuffer.wrap(b));
        }
        assertTrue(Files.size(file) < 64L * MIB, "file size " + Files.size(file));
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertEquals(size, image.virtualSize());
            assertArrayEquals(a, readChain(atA, a.length, image));
            assertArrayEquals(b, readChain(atB, b.length, image));
            assertArrayEquals(new byte[MIB], readChain(5L << 30, MIB, image));
            Extent e = image.extentAt(0, size);
            assertEquals(Extent.State.ABSENT, e.state());
            assertEquals((4L << 30) - 8 * MIB, e.length());
            // the write across 4 GiB allocated the blocks on both sides of it
            assertEquals(new Extent(16L * MIB, Extent.State.PRESENT), image.extentAt((4L << 30) - 8 * MIB, size));
        }
    }

    /** Extents follow the bitmap of a partially present block sector by sector. */
    @Test
    void extentsOfAPartialBlock() throws IOException {
        Path base = dir.resolve("p.vhdx");
        try (VhdxImage parent = VhdxImage.createDynamic(base, VhdxCreateOptions.of(8 * MIB).withBlockSize(MIB))) {
            parent.write(0, ByteBuffer.wrap(pattern(MIB, 3)));
        }
        try (VhdxImage diff = VhdxImage.createDifferencing(dir.resolve("c.vhdx"), base,
                VhdxCreateOptions.of(MIB).withBlockSize(MIB))) {
            diff.write(1024, ByteBuffer.wrap(pattern(1536, 4)));
            assertEquals(new Extent(1024, Extent.State.ABSENT), diff.extentAt(0, 8 * MIB));
            assertEquals(new Extent(1536, Extent.State.PRESENT), diff.extentAt(1024, 8 * MIB));
            assertEquals(new Extent(8 * MIB - 2560, Extent.State.ABSENT), diff.extentAt(2560, 8 * MIB));
            assertEquals(new Extent(512, Extent.State.PRESENT), diff.extentAt(1024, 512));
            assertEquals(0, diff.deallocate(512, MIB)); // no whole block inside
            assertEquals(MIB, diff.deallocate(512, 2 * MIB)); // block 1 only
            assertEquals(new Extent(1024, Extent.State.ABSENT), diff.extentAt(0, 8 * MIB));
            assertEquals(2 * MIB, diff.deallocate(0, 2 * MIB));
            assertEquals(new Extent(8 * MIB, Extent.State.ABSENT), diff.extentAt(0, 8 * MIB));
        }
    }

    /** Concurrent writers into the same new blocks: every write lands, each block is allocated once. */
    @Test
    void concurrentWritesIntoNewBlocks() throws Exception {
        Path file = dir.resolve("conc.vhdx");
        int size = 16 * MIB;
        byte[] model = new byte[size];
        try (VhdxImage image = VhdxImage.createDynamic(file, VhdxCreateOptions.of(size).withBlockSize(MIB))) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < 64; i++) {
                            long off = (long) i * 256 * 1024 + thread * 64 * 1024;
                            byte[] data = pattern(64 * 1024, off);
                            image.write(off, ByteBuffer.wrap(data));
                            synchronized (model) {
                                System.arraycopy(data, 0, model, (int) off, data.length);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertContent(model, image);
        }
        assertTrue(Files.size(file) <= 4L * MIB + 16L * MIB, "each block allocated once: " + Files.size(file));
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertContent(model, image);
        }
    }

    /** A read-only image refuses changes; ranges outside the disk are refused. */
    @Test
    void refusals() throws IOException {
        Path file = dir.resolve("ro.vhdx");
        VhdxImage.createDynamic(file, VhdxCreateOptions.of(4 * MIB)).close();
        try (VhdxImage image = VhdxImage.open(file, true)) {
            assertTrue(image.readOnly());
            assertThrows(IOException.class, () -> image.write(0, ByteBuffer.allocate(512)));
            assertThrows(IOException.class, () -> image.deallocate(0, 4 * MIB));
            assertThrows(IllegalArgumentException.class, () -> image.read(4 * MIB, ByteBuffer.allocate(512)));
            assertThrows(IllegalArgumentException.class, () -> image.read(100, ByteBuffer.allocate(512)));
            assertThrows(IllegalArgumentException.class, () -> image.extentAt(4 * MIB, 512));
        }
        assertThrows(java.nio.file.FileAlreadyExistsException.class,
                () -> VhdxImage.createDynamic(file, VhdxCreateOptions.of(4 * MIB)));
        assertThrows(IllegalArgumentException.class, () -> VhdxCreateOptions.of(4 * MIB).withBlockSize(512 * 1024));
        assertThrows(IllegalArgumentException.class, () -> VhdxCreateOptions.of(4 * MIB).withBlockSize(3 * MIB));
        assertThrows(IllegalArgumentException.class, () -> VhdxCreateOptions.of(4 * MIB).withLogicalSectorSize(1024));
        assertThrows(IllegalArgumentException.class, () -> VhdxCreateOptions.of(1000));
    }
}
