package org.diskhost.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.diskhost.api.Disk;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.Nginx;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The {@code blob} bundle in a real framework: a raw image and a fixed VHD of it served by a real nginx, configured as
 * blob disks at run time, served by the NBD server and checked by qemu-img against the source file.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BlobIT extends HostTestSupport {
    private static final int MiB = 1 << 20;

    @Configuration
    public Option[] config() throws Exception {
        return hostOptionsWithNbd("blob", "blob");
    }

    @Test
    public void blobDisksAreServedOverNbdAsTheirSourceFile() throws Exception {
        Path dir = dataDirectory();
        Path www = Files.createDirectories(dir.resolve("www"));
        Path source = www.resolve("golden.img");
        byte[] content = new byte[24 * MiB];
        new Random(11).nextBytes(content);
        Files.write(source, content);
        ExternalTools.ok(dir, "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on",
                source.toString(), www.resolve("golden.vhd").toString());
        try (Nginx nginx = Nginx.serving(www).start(dir)) {
            configure("flat", "{\"kind\": \"blob\", \"url\": \"" + nginx.url("/golden.img") + "\"}");
            configure("vhd", "{\"kind\": \"blob\", \"url\": \"" + nginx.url("/golden.vhd") + "\", \"format\": \"vhd1\","
                    + " \"chunkSize\": \"256 KiB\", \"readahead\": \"2 MiB\"}");
            Disk flat = awaitDisk("flat");
            Disk vhd = awaitDisk("vhd");
            assertEquals(24L * MiB / 512, flat.sectorCount());
            assertEquals(24L * MiB / 512, vhd.sectorCount());
            assertTrue(vhd.diskId().isPresent());
            for (String name : new String[] {"flat", "vhd"}) {
                String uri = "nbd+unix:///" + name + "?socket=" + dir.resolve("nbd.sock");
                ExternalTools.await(dir, "qemu-img", "info", uri);
                ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), uri);
                String info = ExternalTools.ok(dir, "nbdinfo", uri);
                assertTrue(info, info.contains("export-size: " + 24L * MiB));
                assertTrue(info, info.contains("is_read_only: true"));
            }
            host().remove("flat");
            host().remove("vhd");
        }
    }
}
