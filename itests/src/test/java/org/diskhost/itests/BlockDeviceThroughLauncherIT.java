package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.LoopDevice;
import org.junit.jupiter.api.Test;

/**
 * Kind {@code block} as users reach it: {@code bin/diskhost} serving a real loop device over NBD to qemu-img,
 * qemu-io and nbdinfo, with the device exclusively held, written through, and resized under the host.
 */
class BlockDeviceThroughLauncherIT extends LauncherTest {
    private static final int MiB = 1 << 20;

    @Test
    void aLoopDeviceIsServedWrittenAndResizedThroughTheHost() throws Exception {
        Path var = Files.createDirectories(dir.resolve("var"));
        Path backing = dir.resolve("backing.img");
        byte[] content = new byte[64 * MiB];
        new Random(13).nextBytes(content);
        Files.write(backing, content);
        try (LoopDevice loop = LoopDevice.over(backing).directIo(true).attach()) {
            // Two disks on one device, both exclusive: the second must be refused with the reason, the first served.
            start("""
                    {"disks": {"blk":  {"kind": "block", "path": "%1$s", "exclusive": true},
                               "twin": {"kind": "block", "path": "%1$s", "exclusive": true}},
                     "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                    """.formatted(loop.path()));
            host.await("disk 'blk' is ready");
            host.await("busy: another user holds it exclusively or it is mounted (exclusive=true)");
            host.await("NBD server listening on unix");
            String uri = "nbd+unix:///blk?socket=" + var.resolve("nbd.sock");

            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", backing.toString(), uri);
            String info = ExternalTools.ok(dir, "nbdinfo", uri);
            assertTrue(info.contains("export-size: " + 64 * MiB), info);
            assertTrue(info.contains("(block, "), info);

            // A FUA write through NBD is on the device (and so in its backing file) when qemu-io returns.
            ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "write -f -P 0x77 1M 1M", uri);
            byte[] onFile = new byte[MiB];
            try (RandomAccessFile file = new RandomAccessFile(backing.toFile(), "r")) {
                file.seek(MiB);
                file.readFully(onFile);
            }
            byte[] expected = new byte[MiB];
            Arrays.fill(expected, (byte) 0x77);
            assertTrue(Arrays.equals(expected, onFile), "the write reached the device");

            // Grow the device under the host: new NBD connections see the new size.
            try (RandomAccessFile file = new RandomAccessFile(backing.toFile(), "rw")) {
                file.setLength(96L * MiB);
            }
            loop.resize();
            String size = "";
            for (int i = 0; i < 20 && !size.equals(String.valueOf(96L * MiB)); i++) {
                Thread.sleep(100);
                size = ExternalTools.ok(dir, "nbdinfo", "--size", uri).strip();
            }
            assertEquals(String.valueOf(96L * MiB), size, "the new size within 2 s");
            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", backing.toString(), uri);
            host.stop();
        }
    }
}
