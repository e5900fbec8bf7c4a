package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.Nginx;
import org.junit.jupiter.api.Test;

/**
 * Kind {@code blob} as users reach it: {@code bin/diskhost} booting "a golden image" that nginx serves as a fixed VHD,
 * under a RAM diff, over NBD to qemu-img and qemu-io; a missing blob beside it is a clear error that stops nothing.
 */
class BlobThroughLauncherIT extends LauncherTest {
    private static final int MiB = 1 << 20;

    @Test
    void aGoldenImageOverHttpIsServedUnderARamDiff() throws Exception {
        Path var = Files.createDirectories(dir.resolve("var"));
        Path www = Files.createDirectories(dir.resolve("www"));
        Path golden = www.resolve("golden.img");
        byte[] content = new byte[40 * MiB];
        new Random(17).nextBytes(content);
        Files.write(golden, content);
        ExternalTools.ok(dir, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on",
                golden.toString(), www.resolve("golden.vhd").toString());
        try (Nginx nginx = Nginx.serving(www).start(dir)) {
            start("""
                    {"disks": {"vm":      {"kind": "ramdiff",
                                           "disk": {"kind": "blob", "url": "%1$s", "format": "vhd1"}},
                               "raw":     {"kind": "blob", "url": "%2$s", "connections": 4},
                               "missing": {"kind": "blob", "url": "%3$s"}},
                     "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                    """.formatted(nginx.url("/golden.vhd"), nginx.url("/golden.img"), nginx.url("/gone.img")));
            host.await("disk 'vm' is ready");
            host.await("disk 'raw' is ready");
            host.await("HTTP 404 (no such blob)");
            host.await("NBD server listening on unix");
            String vm = "nbd+unix:///vm?socket=" + var.resolve("nbd.sock");
            String raw = "nbd+unix:///raw?socket=" + var.resolve("nbd.sock");

            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", golden.toString(), vm);
            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", golden.toString(), raw);
            String info = ExternalTools.ok(dir, "nbdinfo", raw);
            assertTrue(info.contains("(blob, ") && info.contains("is_read_only: true"), info);

            // The guest writes land in RAM: read back through NBD, the golden image untouched.
            ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 3M 1M", vm);
            ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "read -P 0x5a 3M 1M", vm);
            ExternalTools.Result differs = ExternalTools.run(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw",
                    golden.toString(), vm);
            assertTrue(differs.out().contains("Content mismatch at offset 3145728"), differs.out() + differs.err());
            assertArrayEquals(content, Files.readAllBytes(golden), "the golden image is never written");
            host.stop();
        }
    }
}
