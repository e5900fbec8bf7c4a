package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.assertContent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * libvhdi, an independent VHDX reader (its Python binding, through /usr/bin/python3), reads the dynamic images and
 * the differencing chains VhdxImage writes: exactly the expected bytes, the parent linkage, the sector size.
 */
class VhdxLibvhdiTest {
    /** Opens the chain (top first, each image's parent set to the next), reads it all and compares it with a file. */
    private static final String READER = """
            import sys, pyvhdi
            expected, paths = sys.argv[1], sys.argv[2:]
            files = []
            for p in paths:
                f = pyvhdi.file()
                f.open(p)
                files.append(f)
            for child, parent in zip(files, files[1:]):
                child.set_parent(parent)
            top = files[0]
            want = open(expected, 'rb').read()
            size = top.get_media_size()
            if size != len(want):
                sys.exit('media size %d, expected %d' % (size, len(want)))
            off = 0
            while off < size:
                n = min(1 << 20, size - off)
                got = top.read_buffer_at_offset(n, off)
                if got != want[off:off + n]:
                    i = next(i for i in range(n) if got[i] != want[off + i])
                    sys.exit('first difference at offset %d: %d, expected %d' % (off + i, got[i], want[off + i]))
                off += n
            print(top.get_bytes_per_sector())
            for f in files:
                print(f.get_disk_type(), f.get_parent_identifier() if f.get_disk_type() == 4 else '-',
                      f.get_parent_filename() if f.get_disk_type() == 4 else '-')
            """;

    @TempDir
    Path dir;

    @BeforeAll
    static void pythonBinding() throws Exception {
        Path tmp = Files.createTempDirectory("pyvhdi");
        try {
            String python = "/usr/bin/python3";
            boolean present = Files.isExecutable(Path.of(python)) && new ProcessBuilder(python, "-c", "import pyvhdi")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("out").toFile()).start().waitFor() == 0;
            if (!present && System.getenv("CI") != null) {
                throw new AssertionError("python3-libvhdi is not installed; .ci/run installs it");
            }
            assumeTrue(present, "python3-libvhdi is not installed");
        } finally {
            Files.deleteIfExists(tmp.resolve("out"));
            Files.deleteIfExists(tmp);
        }
    }

    /** Dynamic images with random writes and deallocations. */
    @ParameterizedTest(name = "sector {0}, block {1} MiB")
    @CsvSource({"512, 32", "4096, 1", "4096, 8"})
    void libvhdiReadsDynamic(int sector, int blockMiB) throws Exception {
        long size = 40L * MIB + 3 * 4096;
        Path img = dir.resolve("d.vhdx");
        byte[] model = VhdxTesting.randomDynamic(img, size, sector, blockMiB, sector * 7L + blockMiB, 100);
        List<String> out = libvhdi(model, img);
        assertEquals(String.valueOf(sector), out.getFirst());
    }

    /**
     * A three-image chain (dynamic base, two differencing images, in two directories): random writes and
     * deallocations at every level; libvhdi reads the top exactly as the model says, and reports each child's parent
     * linkage as the parent's data write GUID.
     */
    @ParameterizedTest(name = "sector {0}, block {1} MiB")
    @CsvSource({"512, 1", "4096, 2", "512, 32"})
    void libvhdiReadsDifferencingChain(int sector, int blockMiB) throws Exception {
        long size = 24L * MIB + 5 * 4096;
        Random rnd = new Random(sector + blockMiB);
        Path base = dir.resolve("base.vhdx");
        byte[] model = new byte[(int) size];
        try (VhdxImage image = VhdxImage.createDynamic(base, VhdxCreateOptions.of(size).withBlockSize(blockMiB * MIB)
                .withLogicalSectorSize(sector))) {
            VhdxRoundTripTest.randomOperations(rnd, image, model, null, 40);
        }
        Path mid = dir.resolve("a").resolve("mid.vhdx");
        Path top = dir.resolve("b").resolve("top.vhdx");
        Files.createDirectories(mid.getParent());
        Files.createDirectories(top.getParent());
        List<String> linkages = new ArrayList<>();
        try (VhdxImage baseImage = VhdxImage.open(base, true)) {
            linkages.add(baseImage.linkageId().toString());
        }
        byte[] midParent = model.clone();
        try (VhdxImage image = VhdxImage.createDifferencing(mid, base, VhdxCreateOptions.of(size)
                .withBlockSize(Math.max(MIB, blockMiB * MIB / 2)))) {
            VhdxRoundTripTest.randomOperations(rnd, image, model, midParent, 60);
        }
        try (VhdxImage midImage = VhdxImage.open(mid, true)) {
            linkages.add(midImage.linkageId().toString());
        }
        byte[] topParent = model.clone();
        try (VhdxImage image = VhdxImage.createDifferencing(top, mid, VhdxCreateOptions.of(size)
                .withBlockSize(blockMiB * MIB))) {
            VhdxRoundTripTest.randomOperations(rnd, image, model, topParent, 60);
        }
        try (VhdxImage t = VhdxImage.open(top, true); VhdxImage m = VhdxImage.open(mid, true);
                VhdxImage b = VhdxImage.open(base, true)) {
            assertContent(model, t, m, b);
        }
        List<String> out = libvhdi(model, top, mid, base);
        assertEquals(String.valueOf(sector), out.get(0));
        assertTrue(out.get(1).toLowerCase().contains(linkages.get(1)), out.toString());
        assertTrue(out.get(1).contains("mid.vhdx"), out.toString());
        assertTrue(out.get(2).toLowerCase().contains(linkages.get(0)), out.toString());
    }

    private List<String> libvhdi(byte[] model, Path... chain) throws Exception {
        Path expected = dir.resolve("expected.raw");
        Files.write(expected, model);
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-c", READER, expected.toString()));
        for (Path p : chain) {
            command.add(p.toString());
        }
        // ExternalTools looks tools up on the PATH; the Debian binding is for the system interpreter, so run that.
        Path out = dir.resolve("libvhdi.out");
        Path err = dir.resolve("libvhdi.err");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("libvhdi reader did not finish in 60 s");
        }
        assertEquals(0, p.exitValue(), () -> "libvhdi reader failed:\n" + read(out) + read(err));
        return Files.readAllLines(out);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
