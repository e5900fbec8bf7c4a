package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.Nbdsh;
import org.junit.jupiter.api.Test;

/**
 * What the README promises of the NBD server, checked where users reach it: {@code bin/diskhost} serving the host's
 * disks (never a bare {@code Disk}: the host's own wrapper once dropped block status) to real clients.
 */
class NbdThroughLauncherIT extends LauncherTest {
    private static final long MiB = 1 << 20;

    /**
     * {@code nbdinfo --map} shows the holes of a sparse file disk, of a dynamic VHDX made by qemu-img, and of a RAM
     * layer over a sparse file, each with the data exactly where it was written.
     */
    @Test
    void blockStatusShowsTheHolesOfFileVhdxAndRamDiffDisks() throws Exception {
        Path var = Files.createDirectories(dir.resolve("var"));
        sparseFile(var.resolve("sparse.img"), 256 * MiB, 0, 100 * MiB);
        sparseFile(var.resolve("base.img"), 64 * MiB, 0);
        ExternalTools.ok(dir, "qemu-img", "create", "-q", "-f", "vhdx", "-o", "subformat=dynamic,block_size=1M",
                var.resolve("dyn.vhdx").toString(), "128M");
        ExternalTools.ok(dir, "qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 64M 1M", var.resolve("dyn.vhdx").toString());
        String socket = var.resolve("nbd.sock").toString();
        start("""
                {"disks": {"sparse": {"kind": "file", "path": "sparse.img"},
                           "dyn":    {"kind": "vhd", "path": "dyn.vhdx"},
                           "diff":   {"kind": "ramdiff", "disk": {"kind": "file", "path": "base.img"}}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """);
        for (String disk : List.of("sparse", "dyn", "diff")) {
            host.await("disk '" + disk + "' is ready");
        }
        host.await("NBD server listening on unix");

        assertEquals(List.of(data(0, MiB), hole(MiB, 99 * MiB), data(100 * MiB, 4096),
                hole(100 * MiB + 4096, 156 * MiB - 4096)), map(uri("sparse", socket)));
        assertEquals(List.of(hole(0, 64 * MiB), data(64 * MiB, MiB), hole(65 * MiB, 63 * MiB)),
                map(uri("dyn", socket)));

        // A write lands in the RAM layer; the file below keeps its own data and holes.
        ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x33 32M 1M", uri("diff", socket));
        assertEquals(List.of(data(0, MiB), hole(MiB, 31 * MiB), data(32 * MiB, MiB), hole(33 * MiB, 31 * MiB)),
                map(uri("diff", socket)));
        assertTrue(allocatedBytes(var.resolve("base.img")) <= 2 * MiB, "the write never reached the file below");

        // What a copying client gains: qemu-img convert and nbdcopy skip the holes and produce sparse copies.
        Path copy = dir.resolve("copy.img");
        ExternalTools.ok(dir, "nbdcopy", uri("sparse", socket), copy.toString());
        assertEquals(256 * MiB, Files.size(copy));
        assertTrue(allocatedBytes(copy) < 8 * MiB, "nbdcopy wrote a sparse copy: " + allocatedBytes(copy));
        ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", var.resolve("sparse.img").toString(),
                copy.toString());
        Path converted = dir.resolve("converted.img");
        ExternalTools.ok(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", uri("dyn", socket), converted.toString());
        assertTrue(allocatedBytes(converted) < 8 * MiB, "qemu-img convert skipped the holes");
        ExternalTools.ok(dir, "qemu-img", "compare", "-f", "vhdx", "-F", "raw", var.resolve("dyn.vhdx").toString(),
                converted.toString());
        host.stop();
    }

    /**
     * The NBD section of the README, claim by claim, through the launcher: exports and the default export,
     * transmission flags (write ones only on writable exports), block sizes, the base:allocation context, reads and
     * writes with FUA, flush, trim and write-zeroes (holes afterwards), cache, the error mapping for bad clients, a
     * multi-connection copy, and the connection limits (maxConnections, handshakeTimeout).
     */
    @Test
    void everyNbdFeatureTheReadmeClaimsWorksThroughTheHost() throws Exception {
        Path var = Files.createDirectories(dir.resolve("var"));
        int port = freePort();
        start("""
                {"disks": {"data": {"kind": "file", "path": "data.img", "create": "64 MiB"}},
                 "nbd": {"listen": "127.0.0.1:%d", "exports": ["data", "view=data;readOnly"], "defaultExport": "data",
                         "maxConnections": 4, "handshakeTimeout": "2s", "maxPayload": "4 MiB",
                         "connectionMemory": "8 MiB"}}
                """.formatted(port));
        host.await("disk 'data' is ready");
        host.await("NBD server listening on tcp");
        String base = "nbd://127.0.0.1:" + port + "/";

        String list = ExternalTools.await(dir, "nbdinfo", "--list", base);
        assertTrue(list.contains("export=\"data\"") && list.contains("export=\"view\""), list);

        String rw = ExternalTools.ok(dir, "nbdinfo", "--json", base + "data");
        for (String flag : List.of("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_cache",
                "can_df", "can_multi_conn")) {
            assertTrue(rw.contains("\"" + flag + "\": true"), flag + " in\n" + rw);
        }
        assertTrue(rw.contains("\"is_read_only\": false") && rw.contains("\"structured\": true")
                && rw.contains("\"base:allocation\"") && rw.contains("\"export-size\": " + 64 * MiB), rw);
        assertTrue(rw.contains("\"block_size_minimum\": 1,") && rw.contains("\"block_size_preferred\": 4096")
                && rw.contains("\"block_size_maximum\": " + 4 * MiB), rw);
        String ro = ExternalTools.ok(dir, "nbdinfo", "--json", base + "view");
        assertTrue(ro.contains("\"is_read_only\": true") && ro.contains("\"can_trim\": false")
                && ro.contains("\"can_zero\": false") && ro.contains("\"can_flush\": true"), ro);
        String unnamed = ExternalTools.ok(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + port);
        assertEquals(String.valueOf(64 * MiB), unnamed.strip(), "the default export is 'data'");

        // Reads, writes with and without FUA, flush, trim and write-zeroes, as qemu-io issues them.
        ExternalTools.ok(dir, "qemu-io", "-f", "raw",
                "-c", "write -P 0x5a 0 4M", "-c", "write -f -P 0x33 4M 64k", "-c", "flush",
                "-c", "discard 1M 1M", "-c", "write -z -u 2M 1M", "-c", "write -z 3M 512k",
                "-c", "read -P 0x5a 0 1M", "-c", "read -P 0 1M 2M", "-c", "read -P 0 3M 512k",
                "-c", "read -P 0x5a 3584k 512k", "-c", "read -P 0x33 4M 64k", base + "data");
        // Trimmed and unmapping-zeroed ranges are holes in the file (a file disk punches them) and in block status.
        assertEquals(List.of(data(0, MiB), hole(MiB, 2 * MiB)), map(base + "data").subList(0, 2));

        // Bad clients get the README's errors and the connection goes on (libnbd's own checks off, so the server
        // sees every request).
        String script = """
                import errno
                def expect(errnum, request):
                    try:
                        request()
                    except nbd.Error as e:
                        assert e.errnum == errnum, (errnum, e.errnum, e.string)
                        return
                    raise AssertionError("no error, expected " + errno.errorcode[errnum])
                size = h.get_size()
                expect(errno.EINVAL, lambda: h.pread(4096, size))
                expect(errno.ENOSPC, lambda: h.pwrite(b"x" * 4096, size))
                expect(errno.EINVAL, lambda: h.pread(8 << 20, 0))
                assert h.pread(4096, 0) == b"\\x5a" * 4096
                h.cache(1 << 20, 0)
                print("ok")
                """;
        assertEquals("ok", nbdsh(base + "data", script).strip());
        assertEquals("ok", nbdsh(base + "view", """
                import errno
                try:
                    h.pwrite(b"x" * 4096, 0)
                    raise AssertionError("a write to a read-only export succeeded")
                except nbd.Error as e:
                    assert e.errnum == errno.EPERM, e.string
                assert h.pread(4096, 0) == b"\\x5a" * 4096
                print("ok")
                """).strip());

        // A copy over four connections at once (the export allows multi-conn) and back.
        Path source = dir.resolve("source.img");
        byte[] random = new byte[(int) (16 * MiB)];
        new Random(7).nextBytes(random);
        Files.write(source, random);
        ExternalTools.ok(dir, "nbdcopy", "--connections=4", source.toString(), base + "data");
        Path back = dir.resolve("back.img");
        ExternalTools.ok(dir, "nbdcopy", "--connections=4", base + "data", back.toString());
        ExternalTools.ok(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", source.toString(), back.toString());

        // maxConnections: four clients that never finish the handshake fill the server; the next is turned away,
        // until handshakeTimeout disconnects them.
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                idle.add(new Socket("127.0.0.1", port));
                assertNotEquals(-1, idle.get(i).getInputStream().read(), "the server greets connection " + i);
            }
            Thread.sleep(200);
            ExternalTools.Result refused = ExternalTools.run(dir, "nbdinfo", "--size", base + "data");
            assertNotEquals(0, refused.exit(), "a fifth client is refused while four are connected");
            long deadline = System.currentTimeMillis() + 10_000;
            for (Socket s : idle) {
                s.setSoTimeout(10_000);
                assertTrue(drainUntilClosed(s), "the server closed an idle handshake");
            }
            assertTrue(System.currentTimeMillis() < deadline);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        assertEquals(String.valueOf(64 * MiB), ExternalTools.await(dir, "nbdinfo", "--size", base + "data").strip());
        assertTrue(host.process().isAlive());
        host.stop();
    }

    // ---- helpers ----

    private String nbdsh(String uri, String script) throws Exception {
        return Nbdsh.run(dir, uri, "h.set_strict_mode(0)", script).ok();
    }

    private static String uri(String export, String socket) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    /** An extent of a map: where, how long, and whether it reads as zeros (a hole or zeros) or holds data. */
    record Extent(long offset, long length, boolean zero) {
        @Override
        public String toString() {
            return offset + "+" + length + (zero ? " zero" : " data");
        }
    }

    private static Extent data(long offset, long length) {
        return new Extent(offset, length, false);
    }

    private static Extent hole(long offset, long length) {
        return new Extent(offset, length, true);
    }

    /** {@code nbdinfo --map} of an export, adjacent extents of the same kind merged. */
    private List<Extent> map(String uri) throws Exception {
        List<Extent> extents = new ArrayList<>();
        for (String line : ExternalTools.ok(dir, "nbdinfo", "--map", uri).strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            extents.add(new Extent(Long.parseLong(f[0]), Long.parseLong(f[1]), (Integer.parseInt(f[2]) & 2) != 0));
        }
        return mapOf(extents);
    }

    private static List<Extent> mapOf(List<Extent> extents) {
        List<Extent> merged = new ArrayList<>();
        for (Extent e : extents) {
            Extent last = merged.isEmpty() ? null : merged.getLast();
            if (last != null && last.zero() == e.zero() && last.offset() + last.length() == e.offset()) {
                merged.set(merged.size() - 1, new Extent(last.offset(), last.length() + e.length(), e.zero()));
            } else {
                merged.add(e);
            }
        }
        return merged;
    }

    /** A sparse file of {@code size} bytes with 1 MiB of random data at each offset (4 KiB at the last one). */
    private static void sparseFile(Path file, long size, long... dataAt) throws IOException {
        Random random = new Random(size);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"); FileChannel ch = raf.getChannel()) {
            raf.setLength(size);
            for (int i = 0; i < dataAt.length; i++) {
                byte[] bytes = new byte[i == dataAt.length - 1 && dataAt.length > 1 ? 4096 : (int) MiB];
                random.nextBytes(bytes);
                ch.write(ByteBuffer.wrap(bytes), dataAt[i]);
            }
        }
    }

    /** The bytes a file occupies on disk, as coreutils' {@code stat} reports them. */
    private long allocatedBytes(Path file) throws Exception {
        return Long.parseLong(ExternalTools.ok(dir, "stat", "-c", "%b", file.toString()).strip()) * 512;
    }

    /** Reads until the peer closes; false if it is still open after the socket's timeout. */
    private static boolean drainUntilClosed(Socket s) throws IOException {
        byte[] buffer = new byte[4096];
        try {
            while (s.getInputStream().read(buffer) != -1) {
                // the greeting and anything else the server sends before it hangs up
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true; // reset by the server: closed too
        }
    }
}
