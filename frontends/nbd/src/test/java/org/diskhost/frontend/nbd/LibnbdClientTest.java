package org.diskhost.frontend.nbd;

import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * libnbd's tools (nbdinfo, nbdcopy, nbdsh) and fio's nbd engine against the server. nbdsh asks for block size
 * information and keeps to it: byte-granular reads and writes work as they do against nbdkit and qemu-nbd.
 */
@Timeout(300)
class LibnbdClientTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(dir, Map.of("exports", new String[] {"a=alpha", "b=beta;readOnly", "f=file"}));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void nbdinfoListsTheExportsAndTheirProperties() throws Exception {
        server.disk("alpha", Disk.of(MemoryDisk.of(512, 2048)));
        server.disk("beta", Disk.of(MemoryDisk.of(4096, 64)));
        String list = ExternalTools.ok(dir, "nbdinfo", "--list", "--json", "nbd+unix:///?socket=" + server.socket);
        assertTrue(list.contains("\"export-name\": \"a\""), list);
        assertTrue(list.contains("\"export-name\": \"b\""), list);
        assertTrue(!list.contains("\"export-name\": \"f\""), "an export whose disk is missing is not listed: " + list);
        String beta = ExternalTools.ok(dir, "nbdinfo", "--json", server.uri("b"));
        assertTrue(beta.contains("\"is_read_only\": true"), beta);
        assertTrue(beta.contains("\"export-size\": 262144"), beta);
        assertTrue(beta.contains("\"block_size_minimum\": 1"), "any byte is served: " + beta);
        assertTrue(beta.contains("\"block_size_preferred\": 4096"), beta);
        assertTrue(beta.contains("\"block_size_maximum\": 67108864"), beta);
        assertTrue(beta.contains("\"can_multi_conn\": true"), beta);
        String alpha = ExternalTools.ok(dir, "nbdinfo", "--json", server.uri("a"));
        assertTrue(alpha.contains("\"is_read_only\": false"), alpha);
        assertTrue(alpha.contains("\"can_fast_zero\": true"), alpha);
        assertTrue(alpha.contains("\"block_size_minimum\": 1"), alpha);
        assertTrue(alpha.contains("\"base:allocation\""), alpha);
        ExternalTools.Result missing = ExternalTools.run(dir, "nbdinfo", server.uri("nope"));
        assertTrue(missing.exit() != 0 && missing.err().contains("nope"), missing.err());
    }

    @Test
    void nbdinfoMapReportsHolesAndData() throws Exception {
        Disk disk = server.fileDisk("file", "map.img", 8L * MIB);
        write(disk, 2048, pattern(MIB, 3)); // 1 MiB of data at 1 MiB
        disk.syncCache().join();
        String map = ExternalTools.ok(dir, "nbdinfo", "--map", server.uri("f"));
        Matcher m = Pattern.compile("(?m)^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(.*)$").matcher(map);
        StringBuilder seen = new StringBuilder();
        while (m.find()) {
            seen.append(m.group(1)).append('+').append(m.group(2)).append(':').append(m.group(4).trim()).append(' ');
        }
        assertEquals("0+1048576:hole,zero 1048576+1048576:data 2097152+6291456:hole,zero ", seen.toString(), map);
    }

    @Test
    void nbdcopyInBothDirectionsWithFourConnections() throws Exception {
        byte[] content = new byte[32 * MIB];
        new Random(11).nextBytes(content);
        for (int i = 4 * MIB; i < 12 * MIB; i++) {
            content[i] = 0; // a run of zeros, which nbdcopy may skip or zero
        }
        Path source = dir.resolve("source.raw");
        Files.write(source, content);
        server.fileDisk("file", "copy.img", 32L * MIB);
        ExternalTools.ok(dir, "nbdcopy", "--connections=4", "--requests=16", source.toString(), server.uri("f"));
        Path back = dir.resolve("back.raw");
        ExternalTools.ok(dir, "nbdcopy", "--connections=4", "--flush", server.uri("f"), back.toString());
        assertArrayEquals(content, Files.readAllBytes(back));
        assertArrayEquals(content, Files.readAllBytes(dir.resolve("copy.img")), "the disk's file holds the data");
    }

    @Test
    void nbdcopyIntoAReadOnlyExportFails() throws Exception {
        server.disk("beta", Disk.of(MemoryDisk.of(512, 2048)));
        Path source = dir.resolve("source.raw");
        Files.write(source, new byte[MIB]);
        ExternalTools.Result r = ExternalTools.run(dir, "nbdcopy", source.toString(), server.uri("b"));
        assertTrue(r.exit() != 0, r.out() + r.err());
    }

    @Test
    void fioVerifiesItsWritesWithCrc32c() throws Exception {
        server.fileDisk("file", "fio.img", 64L * MIB);
        ExternalTools.ok(dir, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + server.uri("f"), "--rw=randwrite",
                "--bs=4k", "--size=32M", "--iodepth=32", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
                "--output-format=terse");
        ExternalTools.ok(dir, "fio", "--name=mixed", "--ioengine=nbd", "--uri=" + server.uri("f"), "--rw=randrw",
                "--bsrange=4k-256k", "--size=32M", "--iodepth=8", "--verify=crc32c", "--verify_fatal=1",
                "--output-format=terse");
    }

    @Test
    void byteGranularRequestsOnAFileDiskWith512ByteSectors() throws Exception {
        server.fileDisk("file", "bytes.img", 4L * MIB);
        String out = Nbdsh.byteGranularChecks(dir, server.uri("f"), 1);
        assertTrue(out.contains("checks passed"), out);
        String info = ExternalTools.ok(dir, "nbdinfo", "--json", server.uri("f"));
        assertTrue(info.contains("\"block_size_minimum\": 1,"), info);
        assertTrue(info.contains("\"block_size_preferred\": 4096,"), info);
    }

    @Test
    void byteGranularRequestsOnADiskWith4KiBSectorsCompletingOutOfOrder() throws Exception {
        server.disk("alpha", Disk.of(MemoryDisk.builder(4096, 512).completeAsync().build())); // 2 MiB
        Nbdsh.byteGranularChecks(dir, server.uri("a"), 1);
    }

    /** Two nbdsh processes, each with many one-byte writes in flight, write alternate bytes of the same sectors. */
    @Test
    void twoNbdshProcessesWritingAlternateBytesOfTheSameSectorsLoseNone() throws Exception {
        MemoryDisk memory = MemoryDisk.builder(512, 2048).completeAsync().build();
        server.disk("alpha", Disk.of(memory));
        int span = 8192;
        Nbdsh.writeAlternateBytesFromTwoProcesses(dir, server.uri("a"), 1000, span);
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
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(4L * MIB);
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
