package org.diskhost.backend.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.diskhost.api.Disk;
import org.diskhost.api.sync.DiskChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blocking channel adapter over a real file disk, whose I/O runs on the disk's own threads. */
class FileDiskChannelTest {
    @TempDir
    Path dir;

    @Test
    void unalignedStreamingRoundTripsThroughAFileDisk() throws Exception {
        for (Map<String, Object> shape : List.<Map<String, Object>>of(
                Map.of("path", "c.img", "create", "1 MiB"),
                Map.of("path", "d.img", "create", "1 MiB", "direct", true, "sectorSize", 4096))) {
            Disk disk = FileDisks.resolve(dir, shape, false);
            byte[] model = new byte[1 << 20];
            Random random = new Random(7);
            try (DiskChannel channel = DiskChannel.of(disk)) {
                for (int i = 0; i < 200; i++) {
                    int position = random.nextInt(model.length - 10_000);
                    byte[] chunk = new byte[random.nextInt(10_000)];
                    random.nextBytes(chunk);
                    channel.position(position).write(ByteBuffer.wrap(chunk));
                    System.arraycopy(chunk, 0, model, position, chunk.length);
                }
                channel.position(0);
                ByteBuffer all = ByteBuffer.allocateDirect(model.length);
                assertEquals(model.length, channel.read(all));
                byte[] read = new byte[model.length];
                all.flip().get(read);
                assertArrayEquals(model, read, "read back through the channel");
            }
            disk.close();
            assertArrayEquals(model, Files.readAllBytes(dir.resolve((String) shape.get("path"))), "the file");
        }
    }
}
