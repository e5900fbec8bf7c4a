package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.status.DiskStatus.State;
import org.diskhost.frontend.nbd.Protocol.Option;
import org.diskhost.frontend.nbd.Protocol.OptionReply;
import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness: a client asking for an export whose disk is configured but not ready yet (starting, or rebuilt for a
 * configuration change) waits within its handshake timeout; an unknown name and a failed disk are refused at once.
 */
@Timeout(60)
class ReadinessTest {
    @TempDir
    Path dir;
    TestServer server;
    Disk disk;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(dir, Map.of("handshakeTimeout", "4s"));
        disk = Disk.of(MemoryDisk.of(512, 2048));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawClient.OptionReply go(RawClient c, String name) throws Exception {
        c.option(Option.GO.code, RawClient.goData(name));
        RawClient.OptionReply r;
        while ((r = c.optionReply()).type() == OptionReply.INFO.code) {
            // the export's information, then the ACK
        }
        return r;
    }

    /** Publishes the disk after {@code millis} on another thread, as the host does once the disk's chain is built. */
    private CompletableFuture<Void> publishLater(String name, long millis) {
        return CompletableFuture.runAsync(() -> {
            server.server.putStatus(name, new NbdServer.Status(State.READY, ""));
            server.server.putDisk(name, disk);
        }, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS));
    }

    @Test
    void aClientAskingForADiskThatIsComingUpWaitsForIt() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.RESOLVING, ""));
        long start = System.nanoTime();
        CompletableFuture<Void> published = publishLater("demo", 500);
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            assertEquals(OptionReply.ACK.code, go(c, "demo").type());
        }
        long waited = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waited >= 450, "the handshake waited for the disk: " + waited + " ms");
        published.join();
    }

    @Test
    void exportNameWaitsToo() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.WAITING, "no resolver for kind 'file'"));
        CompletableFuture<Void> published = publishLater("demo", 300);
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.option(Option.EXPORT_NAME.code, "demo".getBytes());
            assertEquals(2048L * 512, c.read(10).getLong(), "the export's size: the handshake went through");
        }
        published.join();
    }

    /** A real client (libnbd: meta contexts, then GO) connects during the rebuild of a disk that is not published. */
    @Test
    void nbdinfoWaitsWhileTheDiskIsRebuilt() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.READY, ""));
        server.server.putDisk("demo", disk);
        // A configuration change that changes what the disk reports: the host withdraws the disk and rebuilds it.
        server.server.putStatus("demo", new NbdServer.Status(State.RESOLVING, ""));
        server.server.removeDisk("demo");
        CompletableFuture<Void> published = publishLater("demo", 500);
        String size = ExternalTools.ok(dir, "nbdinfo", "--size", server.uri("demo"));
        assertEquals(String.valueOf(2048L * 512), size.strip());
        published.join();
    }

    @Test
    void anUnknownNameIsRefusedAtOnce() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.RESOLVING, ""));
        long start = System.nanoTime();
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            RawClient.OptionReply r = go(c, "nope");
            assertEquals(OptionReply.ERR_UNKNOWN.code, r.type());
            assertEquals("no export named 'nope'", r.text());
        }
        assertTrue(System.nanoTime() - start < 1_000_000_000L, "no wait for an unknown name");
    }

    @Test
    void aFailedDiskIsRefusedAtOnceWithItsReason() throws Exception {
        String reason = "disk 'demo', kind 'file', setting 'sectorSize': must be 512 or 4096, got 1000";
        server.server.putStatus("demo", new NbdServer.Status(State.FAILED, reason));
        long start = System.nanoTime();
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            RawClient.OptionReply r = go(c, "demo");
            assertEquals(OptionReply.ERR_UNKNOWN.code, r.type());
            assertEquals("export 'demo': disk 'demo' failed: " + reason, r.text());
        }
        assertTrue(System.nanoTime() - start < 1_000_000_000L, "no wait for a failed disk");
    }

    @Test
    void aDiskThatDoesNotComeInTimeIsRefusedWithWhatItWaitsFor() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.WAITING, "no resolver for kind 'crypt'"));
        long start = System.nanoTime();
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            RawClient.OptionReply r = go(c, "demo");
            assertEquals(OptionReply.ERR_UNKNOWN.code, r.type());
            assertEquals("export 'demo': disk 'demo' is waiting: no resolver for kind 'crypt'", r.text());
        }
        long waited = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waited >= 3500 && waited < 4000, "waited nine tenths of the 4 s handshake timeout: " + waited);
    }

    @Test
    void anExportOfTheConfigurationWaitsForItsDisksConfiguration() throws Exception {
        server.close();
        server = TestServer.start(dir, Map.of("exports", new String[] {"vm=demo"}, "handshakeTimeout", "4s"));
        CompletableFuture<Void> published = publishLater("demo", 300);
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            assertEquals(OptionReply.ACK.code, go(c, "").type(), "the only export is the default");
        }
        published.join();
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            assertEquals(OptionReply.ERR_UNKNOWN.code, go(c, "demo").type(), "'demo' is a disk, not an export");
        }
    }

    @Test
    void stoppingTheServerEndsAWait() throws Exception {
        server.server.putStatus("demo", new NbdServer.Status(State.RESOLVING, ""));
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.option(Option.GO.code, RawClient.goData("demo"));
            Thread.sleep(200);
            long start = System.nanoTime();
            server.server.close();
            assertTrue(c.closedByServer());
            assertTrue(System.nanoTime() - start < 1_000_000_000L);
        }
    }
}
