package org.diskhost.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.LoopDevice;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The {@code block} bundle in a real framework: a disk on a real loop device, configured at run time, served by the
 * NBD server and checked by qemu-img against the device's backing file, before and after the device grows.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BlockDeviceIT extends HostTestSupport {
    private static final int MiB = 1 << 20;

    @Configuration
    public Option[] config() throws Exception {
        return hostOptionsWithNbd("block", "blockdevice");
    }

    @Test
    public void aBlockDiskIsServedOverNbdAndFollowsAResize() throws Exception {
        Path dir = dataDirectory();
        Path backing = dir.resolve("backing.img");
        byte[] content = new byte[32 * MiB];
        new Random(7).nextBytes(content);
        Files.write(backing, content);
        try (LoopDevice loop = LoopDevice.over(backing).sectorSize(4096).directIo(true).attach()) {
            configure("blk", "{\"kind\": \"block\", \"path\": \"" + loop.path() + "\"}");
            Disk disk = awaitDisk("blk");
            assertEquals(4096, disk.sectorSize());
            assertEquals(32 * MiB / 4096, disk.sectorCount());
            String uri = "nbd+unix:///blk?socket=" + dir.resolve("nbd.sock");
            ExternalTools.await(dir, "qemu-img", "info", uri);
            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", backing.toString(), uri);
            ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "write -f -P 0x5c 4M 64k", uri);
            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", backing.toString(), uri);

            try (var file = new java.io.RandomAccessFile(backing.toFile(), "rw")) {
                file.setLength(48L * MiB);
            }
            var resized = disk.waitResize(32 * MiB / 4096);
            loop.resize();
            assertEquals(48L * MiB / 4096, (long) resized.get(2, TimeUnit.SECONDS));
            String info = ExternalTools.ok(dir, "nbdinfo", uri);
            assertTrue(info, info.contains("export-size: " + 48L * MiB));
            ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", backing.toString(), uri);
            host().remove("blk"); // closes the device before the loop device is detached
        }
    }

    /**
     * The block bundle hot swapped under verified load, ten times (the host's {@code upgrade} and a plain
     * {@code Bundle.update} in turn), on a device held with O_EXCL: the old disk closes the device before the new one
     * opens it, so the exclusive open never finds it busy, and no request fails or reads wrong data.
     */
    @Test
    public void theBlockBundleIsSwappedUnderVerifiedLoadOnAnExclusiveDevice() throws Exception {
        Path dir = dataDirectory();
        Path backing = dir.resolve("swap.img");
        Files.write(backing, new byte[16 * MiB]);
        try (LoopDevice loop = LoopDevice.over(backing).directIo(true).attach()) {
            configure("bswap", "{\"kind\": \"block\", \"path\": \"" + loop.path() + "\", \"exclusive\": true}");
            Disk disk = awaitDisk("bswap");
            Path jar = Path.of(System.getProperty("diskhost.bundles"), "diskhost-backend-blockdevice.jar");
            VerifiedLoad load = new VerifiedLoad(disk, 0, 2, 256, 2);
            try {
                for (int round = 0; round < 10; round++) {
                    long before = load.writes() + load.reads();
                    if (round % 2 == 0) {
                        String out = shell("upgrade", "org.diskhost.backend.blockdevice", jar.toString());
                        assertTrue(out + shell("swaps"), out.contains("back after"));
                    } else {
                        try (InputStream in = Files.newInputStream(jar)) {
                            bundle("org.diskhost.backend.blockdevice").update(in);
                        }
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (load.writes() + load.reads() < before + 20 && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    assertTrue("I/O went on after swap " + round, load.writes() + load.reads() >= before + 20);
                }
            } finally {
                load.close();
            }
            assertEquals(load.failures().toString(), List.of(), load.failures());
            host().remove("bswap");
        }
    }
}
