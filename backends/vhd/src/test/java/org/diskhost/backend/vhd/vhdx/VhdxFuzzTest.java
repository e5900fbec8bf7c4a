package org.diskhost.backend.vhd.vhdx;

import static org.diskhost.backend.vhd.vhdx.VhdxLogWriter.fixChecksum;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.MIB;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.pattern;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.poke;
import static org.diskhost.backend.vhd.vhdx.VhdxTesting.truncate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.diskhost.backend.vhd.FuzzImages;
import org.diskhost.format.vhd.ImageFormatException;
import org.diskhost.backend.vhd.vhdx.VhdxLogWriter.Op;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the VHDX parser (Jazzer). Inputs are edits of valid images rather than whole files: a
 * template (dynamic, differencing, or with a log to replay), then byte patches at the structures' offsets, checksums
 * optionally recomputed (so the fuzzer gets past them), and an optional truncation. Every opened image is then read
 * in full, extent by extent, and written. The only acceptable failure is an {@link ImageFormatException}.
 *
 * <p>With {@code JAZZER_FUZZ=1} (set by this module's build) it fuzzes for 20 seconds; otherwise it replays the
 * inputs in {@code VhdxFuzzTestInputs} (where Jazzer also stores the input of any finding).
 */
class VhdxFuzzTest {
    private static Path dir;
    private static List<FuzzImages.Template> templates;

    @BeforeAll
    static void templates() throws IOException {
        dir = FuzzImages.scratchDirectory("vhdxfuzz");
        long[] structures = {0, 64 * 1024, 128 * 1024, 192 * 1024, 256 * 1024, MIB, 2 * MIB, 2 * MIB + 64 * 1024,
            3 * MIB, 4 * MIB, 5 * MIB, 6 * MIB};
        Path dynamic = dir.resolve("dynamic.vhdx");
        try (VhdxImage image = VhdxImage.createDynamic(dynamic, VhdxCreateOptions.of(4 * MIB).withBlockSize(MIB))) {
            image.write(MIB - 4096, ByteBuffer.wrap(pattern(8192, 1)));
        }
        Path diff = dir.resolve("diff.vhdx");
        try (VhdxImage image = VhdxImage.createDifferencing(diff, dynamic, VhdxCreateOptions.of(MIB)
                .withBlockSize(MIB))) {
            image.write(512, ByteBuffer.wrap(pattern(1024, 2)));
            image.write(2 * MIB, ByteBuffer.wrap(pattern(MIB, 3)));
        }
        Path logged = dir.resolve("logged.vhdx");
        Files.copy(dynamic, logged);
        UUID logGuid = UUID.randomUUID();
        byte[] batPage = VhdxTesting.peek(logged, 3 * MIB, 4096).putLong(16, 2).array();
        poke(logged, MIB, VhdxLogWriter.entry(3, logGuid, 0, 4 * MIB, 6 * MIB, List.of(new Op.Data(3 * MIB, batPage),
                new Op.Zero(4 * MIB, 8192))));
        VhdxLogWriter.setLogGuid(logged, logGuid);
        templates = List.of(new FuzzImages.Template(dynamic, structures), new FuzzImages.Template(diff, structures),
                new FuzzImages.Template(logged, structures));
    }

    @AfterAll
    static void cleanUp() throws IOException {
        FuzzImages.deleteTree(dir);
    }

    @FuzzTest(maxDuration = "20s")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void openReadWrite(FuzzedDataProvider data) throws IOException {
        FuzzImages.Template t = templates.get(data.consumeInt(0, templates.size() - 1));
        Path file = dir.resolve("input.vhdx");
        Files.copy(t.file(), file, StandardCopyOption.REPLACE_EXISTING);
        int edits = data.consumeInt(0, 6);
        for (int i = 0; i < edits; i++) {
            long base = t.hotSpots()[data.consumeInt(0, t.hotSpots().length - 1)];
            int within = data.consumeBoolean() ? data.consumeInt(0, 127) : data.consumeInt(0, 64 * 1024 - 1);
            byte[] bytes = data.consumeBytes(data.consumeInt(1, 16));
            if (bytes.length > 0) {
                poke(file, base + within, bytes);
            }
        }
        if (data.consumeBoolean()) {
            fixChecksum(file, 64 * 1024, 4096);
            fixChecksum(file, 128 * 1024, 4096);
            fixChecksum(file, 192 * 1024, 64 * 1024);
            fixChecksum(file, 256 * 1024, 64 * 1024);
        }
        if (data.consumeBoolean()) {
            truncate(file, data.consumeLong(0, Files.size(file)));
        }
        boolean writable = data.consumeBoolean();
        try (VhdxImage image = VhdxImage.open(file, !writable)) {
            FuzzImages.exercise(image, data);
        } catch (ImageFormatException expected) {
            // a clear refusal is the right answer to a broken file
        }
    }
}
