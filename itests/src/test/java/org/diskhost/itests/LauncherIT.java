package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.Test;

/** The launcher as users run it: {@code bin/diskhost} in a real process with the assembled distribution. */
class LauncherIT extends LauncherTest {
    private static final Path ROOT = Launcher.ROOT;
    private static final Path DIST = Launcher.DIST;

    private void await(String text, int times) throws InterruptedException, IOException {
        host.await(text, times);
    }

    @Test
    void startsServesUpgradesReconfiguresAndStopsCleanly() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "4 MiB"}}}
                """);
        start(config);
        await("disk 'demo' is ready", 1);
        assertEquals(4L << 20, Files.size(dir.resolve("var/demo.img")));

        // Dropping a backend jar into the deploy directory upgrades the installed bundle; the disk comes back.
        Files.createDirectories(dir.resolve("deploy"));
        Files.copy(DIST.resolve("bundle/diskhost-backend-file.jar"), dir.resolve("deploy/file-backend.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        await("upgraded org.diskhost.backend.file", 1);
        await("disk 'demo' is ready", 2);

        // A bad edit of the configuration is reported with the disk, the kind and the setting.
        Files.writeString(config, """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "4 MiB"},
                           "bad": {"kind": "file", "path": "bad.img", "create": "1 MiB", "sectorSize": 1000}}}
                """);
        await("disk 'bad', kind 'file', setting 'sectorSize': must be 512 or 4096, got 1000", 1);
        // Malformed JSON changes nothing and says where.
        Files.writeString(config, "{\"disks\": {\n  \"demo\": }\n");
        await("line 2, column 11", 1);
        assertTrue(host.process().isAlive(), "the host keeps running");

        host.stop(); // SIGTERM: the shutdown hook stops the framework
        await("diskhost stopped", 1);
    }

    /** What the README promises: the default configuration serves "demo" at nbd://127.0.0.1:10809/demo. */
    @Test
    void theDefaultConfigurationServesDemoOverNbd() throws Exception {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress("127.0.0.1", 10809));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("port 10809 is taken (a diskhost already running?)");
        }
        start(ROOT.resolve("conf/diskhost.json"));
        await("NBD server listening on tcp 127.0.0.1:10809", 1);
        await("disk 'demo' is ready", 1);
        String info = ExternalTools.await(dir, "qemu-img", "info", "nbd://127.0.0.1:10809/demo");
        assertTrue(info.contains("virtual size: 64 MiB (67108864 bytes)"), info);
    }

    /**
     * An NBD client's verifying fio job across swaps of every bundle of a crypt → delay → layered(RAM over file)
     * chain, each upgraded by a jar dropped into deploy/: no request fails and every block verifies, so the
     * RAM layer's contents (where all the writes are) came through each swap.
     */
    @Test
    void fioVerifiesAcrossSwapsOfEveryBundleOfAChain() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Path socket = dir.resolve("var/nbd.sock");
        Files.createDirectories(dir.resolve("var"));
        try (var base = java.nio.channels.FileChannel.open(dir.resolve("var/base.img"),
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            base.write(java.nio.ByteBuffer.allocate(1), 64L * 1024 * 1024 - 1);
        }
        Files.writeString(config, """
                {"disks": {"chain": {"kind": "crypt", "key": "%s", "disk": {"kind": "delay", "writeDelay": "100us",
                    "disk": {"kind": "layered", "layers": [{"kind": "ram"},
                        {"kind": "disk", "disk": {"kind": "file", "path": "base.img"}}]}}}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """.formatted("0123456789abcdef".repeat(4) + "fedcba9876543210".repeat(4)));
        start(config);
        await("disk 'chain' is ready", 1);
        await("NBD server listening on unix", 1);

        Path fioOut = dir.resolve("fio.txt");
        Process fio = new ProcessBuilder("fio", "--name=swaps", "--ioengine=nbd",
                "--uri=nbd+unix:///chain?socket=" + socket, "--rw=randwrite", "--bs=4k", "--size=24M",
                "--iodepth=8", "--rate_iops=500", "--verify=crc32c", "--verify_fatal=1")
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(fioOut.toFile()).start();
        Thread.sleep(1000);
        Files.createDirectories(dir.resolve("deploy"));
        for (String name : List.of("crypt", "delay", "layered", "file")) {
            Files.copy(DIST.resolve("bundle/diskhost-backend-" + name + ".jar"), dir.resolve("deploy/" + name + ".jar"),
                    StandardCopyOption.REPLACE_EXISTING);
            await("upgraded org.diskhost.backend." + name, 1);
        }
        assertTrue(fio.isAlive(), "fio was still writing after the upgrades (else make its job longer)");
        assertTrue(fio.waitFor(180, TimeUnit.SECONDS), "fio finished");
        String out = Files.readString(fioOut);
        assertEquals(0, fio.exitValue(), out);
        assertTrue(out.contains("read:") && out.contains("err= 0"), out);
        await("org.diskhost.backend.layered: updated to", 1);
    }

    /**
     * Real clients over the Unix socket while the configuration changes and the file backend is upgraded by a drop
     * into deploy/: fio's verified writes all succeed, and exports follow the disks.
     */
    @Test
    void nbdClientsRideThroughABackendUpgradeAndExportsFollowTheDisks() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Path socket = dir.resolve("var/nbd.sock");
        Files.writeString(config, """
                {"disks": {"data": {"kind": "file", "path": "data.img", "create": "64 MiB"}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """);
        start(config);
        await("disk 'data' is ready", 1);
        await("NBD server listening on unix", 1);
        String uri = "nbd+unix:///data?socket=" + socket;

        // About four seconds of rate-limited random writes, then their verification.
        Path fioOut = dir.resolve("fio.txt");
        Process fio = new ProcessBuilder("fio", "--name=swap", "--ioengine=nbd", "--uri=" + uri,
                "--rw=randwrite", "--bs=4k", "--size=16M", "--iodepth=8", "--rate_iops=1000", "--verify=crc32c",
                "--verify_fatal=1").directory(dir.toFile()).redirectErrorStream(true).redirectOutput(fioOut.toFile())
                .start();
        Thread.sleep(1500);
        Files.createDirectories(dir.resolve("deploy"));
        Files.copy(DIST.resolve("bundle/diskhost-backend-file.jar"), dir.resolve("deploy/file-backend.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        await("upgraded org.diskhost.backend.file", 1);
        assertTrue(fio.waitFor(120, TimeUnit.SECONDS), "fio finished");
        assertEquals(0, fio.exitValue(), Files.readString(fioOut));
        assertTrue(Files.readString(fioOut).contains("read:"), "the written blocks were read back and verified");

        // A disk added to the configuration becomes an export; removed, it goes away.
        Files.writeString(config, """
                {"disks": {"data": {"kind": "file", "path": "data.img", "create": "64 MiB"},
                           "more": {"kind": "file", "path": "more.img", "create": "1 MiB"}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """);
        await("disk 'more' is ready", 1);
        String list = ExternalTools.await(dir, "nbdinfo", "--list", "nbd+unix:///?socket=" + socket);
        assertTrue(list.contains("export=\"more\""), list);
        Files.writeString(config, """
                {"disks": {"data": {"kind": "file", "path": "data.img", "create": "64 MiB"}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """);
        long deadline = System.currentTimeMillis() + 30_000;
        while (ExternalTools.run(dir, "nbdinfo", "--list", "nbd+unix:///?socket=" + socket).out().contains("more")) {
            assertTrue(System.currentTimeMillis() < deadline, "export 'more' is still listed");
            Thread.sleep(200);
        }
        host.stop();
    }
}
