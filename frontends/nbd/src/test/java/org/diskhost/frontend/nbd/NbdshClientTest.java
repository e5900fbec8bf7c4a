package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskAssertions;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.MemoryDisk;
import org.diskhost.testkit.Nbdsh;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * libnbd's Python shell, which asks for block size information and keeps to it: byte-granular reads and writes work
 * as they do against nbdkit and qemu-nbd.
 */
@Timeout(180)
class NbdshClientTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(dir, Map.of());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void byteGranularRequestsOnAFileDiskWith512ByteSectors() throws Exception {
        server.fileDisk("file", "bytes.img", 4L * MIB);
        String out = Nbdsh.byteGranularChecks(dir, server.uri("file"), 1);
        assertTrue(out.contains("checks passed"), out);
        String info = ExternalTools.ok(dir, "nbdinfo", "--json", server.uri("file"));
        assertTrue(info.contains("\"block_size_minimum\": 1,"), info);
        assertTrue(info.contains("\"block_size_preferred\": 4096,"), info);
    }

    @Test
    void byteGranularRequestsOnADiskWith4KiBSectorsCompletingOutOfOrder() throws Exception {
        server.disk("mem4k", Disk.of(MemoryDisk.builder(4096, 512).completeAsync().build())); // 2 MiB
        Nbdsh.byteGranularChecks(dir, server.uri("mem4k"), 1);
    }

    /** Two nbdsh processes, each with many one-byte writes in flight, write alternate bytes of the same sectors. */
    @Test
    void twoNbdshProcessesWritingAlternateBytesOfTheSameSectorsLoseNone() throws Exception {
        MemoryDisk memory = MemoryDisk.builder(512, 2048).completeAsync().build();
        server.disk("mem", Disk.of(memory));
        int span = 8192;
        Nbdsh.writeAlternateBytesFromTwoProcesses(dir, server.uri("mem"), 1000, span);
        MemorySegment content = memory.content();
        for (int i = 0; i < span; i++) {
            assertEquals(Nbdsh.alternateByte(i), content.get(ValueLayout.JAVA_BYTE, 1000 + i), "byte " + (1000 + i));
        }
        assertTrue(DiskAssertions.isZero(content.asSlice(0, 1000)), "nothing before");
        assertTrue(DiskAssertions.isZero(content.asSlice(1000 + span, 1000)), "nothing after");
    }

    /** The same checks pass against nbdkit's file plugin serving the same kind of file: the behaviour users know. */
    @Test
    void theSameChecksPassAgainstNbdkit() throws Exception {
        ExternalTools.require("nbdkit");
        Path image = dir.resolve("nbdkit.img");
        try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0).write(java.nio.ByteBuffer.allocate(1), 4L * MIB - 1);
        }
        Path socket = dir.resolve("nbdkit.sock");
        Process nbdkit = new ProcessBuilder("nbdkit", "-f", "-U", socket.toString(), "file", image.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("nbdkit.log").toFile()).start();
        try {
            long deadline = System.currentTimeMillis() + 10_000;
            while (!Files.exists(socket)) {
                assertTrue(nbdkit.isAlive() && System.currentTimeMillis() < deadline,
                        "nbdkit did not start: " + Files.readString(dir.resolve("nbdkit.log")));
                Thread.sleep(50);
            }
            Nbdsh.byteGranularChecks(dir, "nbd+unix:///?socket=" + socket, null);
        } finally {
            nbdkit.destroy();
            nbdkit.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
