package org.diskhost.itests;

import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.lang.foreign.MemorySegment;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.paxexam.DiskhostOptions;
import org.diskhost.testkit.ExternalTools;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The framework as a downstream test builds it from {@link DiskhostOptions} alone: disks from a JSON text in the
 * format of {@code conf/diskhost.json}, the NBD server on a TCP port and a Unix socket, and real NBD clients
 * (qemu-img, qemu-io, nbdinfo) reading what the test wrote through the disk service.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DisksFromJsonIT extends HostTestSupport {
    @Configuration
    public Option[] config() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        return options(
                workingDirectory("target/paxexam-json"),
                systemProperty(DiskhostOptions.BUNDLES_PROPERTY)
                        .value(System.getProperty(DiskhostOptions.BUNDLES_PROPERTY)),
                DiskhostOptions.host(),
                DiskhostOptions.backends("file", "crypt"),
                DiskhostOptions.nbd("127.0.0.1:" + port, "nbd.sock"),
                DiskhostOptions.dataDirectory(Files.createTempDirectory("diskhost-json-it")),
                DiskhostOptions.disks("""
                        {"disks": {
                          "plain": {"kind": "file", "path": "plain.img", "create": "4 MiB"},
                          "small": {"kind": "file", "path": "small.img", "create": "1 MiB", "sectorSize": 4096}
                        }}
                        """),
                junitBundles());
    }

    private String tcp(String export) {
        return "nbd://" + context.getProperty(DiskhostOptions.NBD_LISTEN_PROPERTY) + "/" + export;
    }

    @Test
    public void theDisksOfTheJsonAreServedOverNbd() throws Exception {
        Disk plain = awaitDisk("plain");
        MemorySegment data = MemorySegment.ofArray(new byte[8192]).fill((byte) 0xab);
        plain.writeVectored(RequestBuffers.of(data, false), 16, true).get(30, TimeUnit.SECONDS);

        Path dir = dataDirectory();
        String info = ExternalTools.await(dir, "qemu-img", "info", tcp("plain"));
        assertTrue(info, info.contains("virtual size: 4 MiB (4194304 bytes)"));
        String read = ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "read -P 0xab 8192 8192",
                "-c", "read -P 0 0 8192", tcp("plain"));
        assertTrue(read, read.contains("read 8192/8192 bytes at offset 8192"));
        assertTrue(read, !read.contains("Pattern verification failed"));

        String list = ExternalTools.await(dir, "nbdinfo", "--list",
                "nbd+unix:///?socket=" + dir.resolve("nbd.sock"));
        assertTrue(list, list.contains("export=\"plain\"") && list.contains("export=\"small\""));
        String small = ExternalTools.ok(dir, "nbdinfo", "nbd+unix:///small?socket=" + dir.resolve("nbd.sock"));
        assertTrue(small, small.contains("export-size: 1048576"));
        assertTrue(small, small.contains("block_size_minimum: 4096"));
    }
}
