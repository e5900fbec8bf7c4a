package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.Test;

/**
 * Readiness through {@code bin/diskhost}: a client that connects in the first milliseconds after start, or while
 * its disk is rebuilt for a configuration change, is served once the disk is up, never told that the export does
 * not exist.
 */
class ReadinessThroughLauncherIT extends LauncherTest {
    private static final long MiB = 1 << 20;

    private static String config(int port, String demo) {
        return """
                {"disks": {"demo": %s},
                 "nbd": {"listen": "127.0.0.1:%d", "exports": ["demo"]}}
                """.formatted(demo, port);
    }

    /** Runs nbdinfo until the port accepts a connection; the first answer of the server. */
    private ExternalTools.Result firstAnswer(String uri) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            ExternalTools.Result r = ExternalTools.run(dir, "nbdinfo", "--size", uri);
            if (!r.err().contains("Connection refused")) {
                return r;
            }
        }
        return fail("the NBD port never opened:\n" + host.output());
    }

    @Test
    void aClientConnectingAsSoonAsThePortOpensWaitsForItsDisk() throws Exception {
        int port = freePort();
        start(config(port, """
                {"kind": "file", "path": "demo.img", "create": "64 MiB"}"""));
        ExternalTools.Result first = firstAnswer("nbd://127.0.0.1:" + port + "/demo");
        ExternalTools.assertExit(0, first);
        assertEquals(String.valueOf(64 * MiB), first.out().strip());
        String output = host.output();
        // The premise: the port opened before the disk was ready, and the client came in between.
        assertTrue(output.contains("export 'demo': disk 'demo' is resolving; a client waits for it"), output);
        assertTrue(output.indexOf("NBD server listening") < output.indexOf("disk 'demo' is ready"), output);
        // An unknown name is still refused at once.
        ExternalTools.Result unknown = ExternalTools.run(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + port + "/nope");
        assertTrue(unknown.exit() != 0 && unknown.err().contains("no export named 'nope'"), unknown.err());
        ExternalTools.ok(dir, "qemu-img", "info", "nbd://127.0.0.1:" + port + "/demo");
        host.stop();
    }

    /** A failed disk is refused at once, with the reason the host gives, instead of after the handshake timeout. */
    @Test
    void aClientAskingForAFailedDiskHearsWhy() throws Exception {
        int port = freePort();
        start(config(port, """
                {"kind": "file", "path": "demo.img", "create": "1 MiB", "sectorSize": 1000}"""));
        ExternalTools.Result first = firstAnswer("nbd://127.0.0.1:" + port + "/demo");
        assertTrue(first.exit() != 0, first.out());
        host.await("setting 'sectorSize'");
        long start = System.nanoTime();
        // libnbd shows the server's message in its debug output only.
        ExternalTools.Result r = ExternalTools.run(dir, "env", "LIBNBD_DEBUG=1", "nbdinfo", "--size",
                "nbd://127.0.0.1:" + port + "/demo");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "refused without waiting");
        assertTrue(r.exit() != 0 && r.err().contains("server error message: export 'demo': disk 'demo' failed")
                && r.err().contains("setting 'sectorSize': must be 512 or 4096, got 1000"), r.err());
        host.stop();
    }

    /**
     * The disk's sector size changes in the configuration file: the host rebuilds it and publishes it anew. Clients
     * that connect meanwhile, one after another, are all served.
     */
    @Test
    void clientsConnectingWhileTheDiskIsRebuiltAreServed() throws Exception {
        int port = freePort();
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, config(port, """
                {"kind": "file", "path": "demo.img", "create": "64 MiB"}"""));
        start(config);
        host.await("disk 'demo' is ready");
        String uri = "nbd://127.0.0.1:" + port + "/demo";
        ExternalTools.await(dir, "nbdinfo", "--size", uri);
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger served = new AtomicInteger();
        CompletableFuture<Void> clients = CompletableFuture.runAsync(() -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            try {
                while (System.nanoTime() < deadline) {
                    ExternalTools.Result r = ExternalTools.run(dir, "nbdinfo", "--size", uri);
                    if (r.exit() != 0) {
                        failures.add(r.err());
                    } else if (r.out().strip().equals(String.valueOf(32 * MiB))) {
                        return; // the rebuilt disk
                    } else {
                        served.incrementAndGet();
                    }
                }
                failures.add("the rebuilt disk never showed up");
            } catch (Exception e) {
                failures.add(e.toString());
            }
        });
        while (served.get() == 0 && !clients.isDone()) {
            Thread.sleep(10);
        }
        Files.writeString(config, config(port, """
                {"kind": "file", "path": "demo4k.img", "create": "32 MiB", "sectorSize": 4096}"""));
        clients.join();
        assertEquals(List.of(), failures);
        assertEquals(2, host.output().split("disk 'demo' is ready", -1).length - 1, host.output());
        assertTrue(served.get() > 0, "clients connected before the rebuild too");
        host.stop();
    }
}
