package org.diskhost.backend.vhd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the VHD footer, the dynamic disk header, the BAT and bitmaps, the parent
 * locators and chain opening. An input edits a valid image (fixed, dynamic with small blocks, or differencing over
 * it): byte patches at the structures (the footer and its copy, the header, the BAT, bitmaps, locators), checksums
 * optionally recomputed so the fuzzer gets past them, an optional truncation. Every image that opens is then walked
 * extent by extent, its present bytes read, and (writable) written, flushed and deallocated. The only acceptable
 * failure is an {@link ImageFormatException}; anything else (an unchecked exception, a bad extent, a hang) is a
 * finding.
 *
 * <p>With {@code JAZZER_FUZZ=1} (set by this module's build) it fuzzes for 10 seconds; otherwise it replays the
 * inputs in {@code VhdFuzzTestInputs} (where Jazzer also stores the input of any finding).
 */
class VhdFuzzTest {
    private static Path dir;
    private static List<Template> templates;

    /** A valid image and the file offsets worth mutating in it. */
    private record Template(Path file, long[] hotSpots) {
    }

    @BeforeAll
    static void templates() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "vhdfuzz")
                : Files.createTempDirectory("vhdfuzz");
        Path fixed = dir.resolve("fixed.vhd");
        FixedVhd.create(fixed, 64 * 1024);
        Path dynamic = dir.resolve("parent.vhd");
        DynamicVhd.createDynamic(dynamic, 256 * 1024, 16 * 1024);
        try (DynamicVhd image = DynamicVhd.open(dynamic, false)) {
            image.write(0, ByteBuffer.wrap(VhdDisks.pattern(4096, 1)));
            image.write(40 * 1024, ByteBuffer.wrap(VhdDisks.pattern(1024, 2)));
        }
        Path diff = dir.resolve("diff.vhd");
        try (VhdFile parent = Images.openVhd(dynamic, true)) {
            DynamicVhd.createDifferencing(diff, parent, dynamic);
        }
        try (DynamicVhd image = DynamicVhd.open(diff, false)) {
            image.write(512, ByteBuffer.wrap(VhdDisks.pattern(2048, 3)));
        }
        templates = List.of(new Template(fixed, ends(fixed)), new Template(dynamic, structures(dynamic)),
                new Template(diff, structures(diff)));
    }

    private static long[] ends(Path file) throws IOException {
        return new long[] {Files.size(file) - 512};
    }

    /** The footer copy, header, BAT, what follows the BAT (locators, bitmaps), and the footer. */
    private static long[] structures(Path file) throws IOException {
        long length = Files.size(file);
        return new long[] {0, 512, 512 + 576, 1536, 2048, 2560, 3072, length - 512 - 16 * 1024 - 512, length - 512};
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void openReadWrite(FuzzedDataProvider data) throws IOException {
        Template t = templates.get(data.consumeInt(0, templates.size() - 1));
        Path file = dir.resolve("input.vhd");
        Files.copy(t.file(), file, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int edits = data.consumeInt(0, 6);
            for (int i = 0; i < edits; i++) {
                long base = t.hotSpots()[data.consumeInt(0, t.hotSpots().length - 1)];
                long at = Math.max(0, base + data.consumeInt(-16, 600));
                byte[] bytes = data.consumeBytes(data.consumeInt(1, 16));
                if (bytes.length > 0) {
                    Positional.write(channel, bytes, at);
                }
            }
            if (data.consumeBoolean()) {
                fixChecksums(channel);
            }
            if (data.consumeBoolean()) {
                channel.truncate(data.consumeLong(0, channel.size()));
            }
        }
        boolean writable = data.consumeBoolean();
        boolean chain = data.consumeBoolean();
        try {
            if (chain) {
                List<ImageFile> images = Images.openChain(file, !writable, true);
                try {
                    exercise(images.getFirst(), data);
                } finally {
                    Images.closeAll(images);
                }
            } else {
                try (ImageFile image = Images.open(file, !writable, false)) {
                    exercise(image, data);
                }
            }
        } catch (ImageFormatException expected) {
            // a clear refusal is the right answer to a broken file
        }
    }

    /** Recomputes the footers' (end and offset 0) and the dynamic header's checksums, whatever they hold. */
    private static void fixChecksums(FileChannel channel) throws IOException {
        long length = channel.size();
        if (length >= 512) {
            fix(channel, length - 512, 512, 64);
            fix(channel, 0, 512, 64);
        }
        if (length >= 1536) {
            fix(channel, 512, 1024, 36);
        }
    }

    private static void fix(FileChannel channel, long at, int size, int checksumOffset) throws IOException {
        byte[] bytes = Positional.read(channel, at, size, "fuzz");
        Positional.writeFully(channel, ByteBuffer.allocate(4).putInt(0, VhdFooter.checksum(bytes, size,
                checksumOffset)), at + checksumOffset);
    }

    /** Walks every extent of the disk, reads what is present, and (writable) writes, flushes and deallocates. */
    private static void exercise(ImageFile image, FuzzedDataProvider data) throws IOException {
        long size = image.virtualSize();
        int sector = image.logicalSectorSize();
        long pos = 0;
        int steps = 0;
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (pos < size && steps++ < 10_000) {
            ImageFile.Extent e = image.extentAt(pos, size - pos);
            if (e.length() <= 0 || e.length() % sector != 0 || e.length() > size - pos) {
                throw new AssertionError("bad extent " + e + " at " + pos + " of " + size);
            }
            if (e.state() == ImageFile.Extent.State.PRESENT) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), e.length()));
                image.read(pos, buffer);
            }
            pos += e.length();
        }
        if (!image.readOnly() && size >= sector) {
            long at = data.consumeLong(0, size / sector - 1) * sector;
            int n = (int) Math.min(size - at, sector * (long) data.consumeInt(1, 16));
            image.write(at, ByteBuffer.wrap(java.util.Arrays.copyOf(data.consumeBytes(n), n)));
            image.flush();
            image.deallocate(data.consumeLong(0, size / sector - 1) * sector, image.blockSize());
            image.deallocate(0, size);
        }
    }
}
