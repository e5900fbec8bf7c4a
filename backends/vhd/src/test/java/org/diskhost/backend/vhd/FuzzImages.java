package org.diskhost.backend.vhd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;

/** What the VHD and VHDX fuzz tests share: templates, a scratch directory, and the walk over an opened image. */
public final class FuzzImages {
    private FuzzImages() {
    }

    /** A valid image and the file offsets worth mutating in it. */
    public record Template(Path file, long[] hotSpots) {
    }

    /** A new directory for the templates and inputs: in memory (/dev/shm) where there is one, for speed. */
    public static Path scratchDirectory(String prefix) throws IOException {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, prefix)
                : Files.createTempDirectory(prefix);
    }

    public static void deleteTree(Path dir) throws IOException {
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

    /**
     * Walks every extent of the disk (each must be a positive whole number of sectors inside it), reads what is
     * present, and, when the image is writable, writes, flushes and deallocates a little.
     */
    public static void exercise(ImageFile image, FuzzedDataProvider data) throws IOException {
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
