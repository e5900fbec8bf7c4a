package org.diskhost.backend.vhd.vhdx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import org.diskhost.backend.vhd.ImageFile;
import org.diskhost.backend.vhd.ImageFile.Extent;

/** Helpers for the VHDX tests: chain reads, raw dumps, in-place edits of image files. */
final class VhdxTesting {
    static final int MIB = 1 << 20;

    private VhdxTesting() {
    }

    /**
     * Reads {@code length} bytes at {@code offset} of the chain {@code images} (top first), as the chain disk does:
     * present bytes from the image, absent ones from the next image (zeros below the last), zero ones as zeros. Checks
     * the extents on the way: positive, sector multiples, never longer than asked.
     */
    static byte[] readChain(long offset, int length, ImageFile... images) throws IOException {
        byte[] out = new byte[length];
        readChain(offset, ByteBuffer.wrap(out), images, 0);
        return out;
    }

    private static void readChain(long offset, ByteBuffer dst, ImageFile[] images, int level) throws IOException {
        if (level == images.length) {
            while (dst.hasRemaining()) {
                dst.put((byte) 0);
            }
            return;
        }
        ImageFile image = images[level];
        long pos = offset;
        while (dst.hasRemaining()) {
            Extent e = image.extentAt(pos, dst.remaining());
            assertTrue(e.length() > 0 && e.length() <= dst.remaining()
                    && e.length() % image.logicalSectorSize() == 0, () -> "bad extent " + e);
            ByteBuffer part = dst.slice(dst.position(), (int) e.length());
            switch (e.state()) {
                case PRESENT -> image.read(pos, part);
                case ABSENT -> readChain(pos, part, images, level + 1);
                case ZERO -> Arrays.fill(part.array(), part.arrayOffset(), part.arrayOffset() + part.capacity(),
                        (byte) 0);
            }
            dst.position(dst.position() + (int) e.length());
            pos += e.length();
        }
    }

    /** Compares the whole virtual disk of {@code images} with {@code expected}, 4 MiB at a time. */
    static void assertContent(byte[] expected, ImageFile... images) throws IOException {
        assertEquals(expected.length, images[0].virtualSize());
        int step = 4 * MIB;
        for (long off = 0; off < expected.length; off += step) {
            int n = (int) Math.min(step, expected.length - off);
            byte[] got = readChain(off, n, images);
            int mismatch = Arrays.mismatch(got, 0, n, expected, (int) off, (int) off + n);
            assertEquals(-1, mismatch, "first difference at virtual offset " + (off + mismatch));
        }
    }

    /**
     * Creates a dynamic image at {@code img} and applies {@code ops} random writes, deallocations and reads
     * ({@link VhdxRoundTripTest#randomOperations}); returns what the disk must now hold.
     */
    static byte[] randomDynamic(Path img, long size, int sector, int blockMiB, long seed, int ops) throws IOException {
        byte[] model = new byte[(int) size];
        try (VhdxImage image = VhdxImage.createDynamic(img, VhdxCreateOptions.of(size).withBlockSize(blockMiB * MIB)
                .withLogicalSectorSize(sector))) {
            VhdxRoundTripTest.randomOperations(new java.util.Random(seed), image, model, null, ops);
        }
        return model;
    }

    /** Writes {@code bytes} into the file at {@code offset}, in place. */
    static void poke(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
    }

    static void poke(Path file, long offset, ByteBuffer bytes) throws IOException {
        byte[] a = new byte[bytes.remaining()];
        bytes.duplicate().get(a);
        poke(file, offset, a);
    }

    static ByteBuffer peek(Path file, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining() && ch.read(b, offset + b.position()) >= 0) {
                // keep reading
            }
            return b.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        }
    }

    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    static byte[] readAllBytes(Path file) throws IOException {
        return Files.readAllBytes(file);
    }
}
