package org.diskhost.backend.vhd;

import java.io.IOException;
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
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.ImageFormatException;

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
    private static List<FuzzImages.Template> templates;

    @BeforeAll
    static void templates() throws IOException {
        dir = FuzzImages.scratchDirectory("vhdfuzz");
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
        templates = List.of(new FuzzImages.Template(fixed, ends(fixed)), new FuzzImages.Template(dynamic, structures(dynamic)),
                new FuzzImages.Template(diff, structures(diff)));
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
        FuzzImages.deleteTree(dir);
    }

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void openReadWrite(FuzzedDataProvider data) throws IOException {
        FuzzImages.Template t = templates.get(data.consumeInt(0, templates.size() - 1));
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
                    FuzzImages.exercise(images.getFirst(), data);
                } finally {
                    Images.closeAll(images);
                }
            } else {
                try (ImageFile image = Images.open(file, !writable, false)) {
                    FuzzImages.exercise(image, data);
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
}
