package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host as a systemd {@code Type=notify} service: the test plays systemd's side of {@code NOTIFY_SOCKET} (a Unix
 * datagram socket, received by Python, since the JDK has none) and checks what {@code bin/diskhost} sends, and when.
 */
class SystemdThroughLauncherIT extends LauncherTest {
    private static final long MiB = 1 << 20;
    private Process receiver;

    /** Receives datagrams on {@code socket}, each as one line of {@code out} ('|' for its newlines). */
    private void receive(Path socket, Path out) throws Exception {
        ExternalTools.require("/usr/bin/python3");
        String script = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.bind(sys.argv[1])
                with open(sys.argv[2], 'w') as f:
                    while True:
                        f.write(s.recv(65536).decode().replace('\\n', '|') + '\\n')
                        f.flush()
                """;
        receiver = new ProcessBuilder("/usr/bin/python3", "-c", script, socket.toString(), out.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("receiver.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(Files.exists(socket), "the receiver bound " + socket);
    }

    @AfterEach
    void stopReceiver() {
        if (receiver != null) {
            receiver.destroyForcibly();
        }
    }

    private static List<String> messages(Path out) throws Exception {
        return Files.exists(out) ? Files.readAllLines(out) : List.of();
    }

    /** Waits until a message matches; the messages up to and including it. */
    private List<String> awaitMessage(Path out, Predicate<String> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            List<String> all = messages(out);
            for (int i = 0; i < all.size(); i++) {
                if (wanted.test(all.get(i))) {
                    return all.subList(0, i + 1);
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no such message in " + messages(out) + "\nhost output:\n" + host.output());
    }

    private static String config(int port, String moreDisks) {
        return """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "64 MiB"},
                           "bad": {"kind": "file", "path": "bad.img", "create": "1 MiB", "sectorSize": 1000}%s},
                 "nbd": {"listen": "127.0.0.1:%d", "exports": ["demo", "bad", "more"]}}
                """.formatted(moreDisks, port);
    }

    @Test
    void readyWhenEveryDiskIsUpOrFailedThenReloadOnSighupAndStoppingOnSigterm() throws Exception {
        Path socket = dir.resolve("notify.sock");
        Path out = dir.resolve("notify.txt");
        receive(socket, out);
        int port = freePort();
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, config(port, ""));
        start(config, Map.of("NOTIFY_SOCKET", socket.toString(), "WATCHDOG_USEC", "400000"));

        // READY=1 once 'demo' is ready, 'bad' failed with its reason and the NBD server listens; before it, only
        // STATUS= lines saying what the host waits for.
        List<String> upToReady = awaitMessage(out, m -> m.startsWith("READY=1"));
        String ready = upToReady.getLast();
        assertTrue(ready.contains("|STATUS=1 disk ready (demo); nbd on tcp 127.0.0.1:" + port + "; 1 failed: disk 'bad',"
                + " kind 'file', setting 'sectorSize': must be 512 or 4096, got 1000")
                && ready.contains("|MAINPID=" + host.process().pid()), ready);
        for (String before : upToReady.subList(0, upToReady.size() - 1)) {
            assertTrue(before.startsWith("STATUS=starting: waiting for") || before.equals("WATCHDOG=1"), before);
        }
        // Ready means served: a client right after READY=1 reads the disk without retrying.
        String info = ExternalTools.ok(dir, "qemu-img", "info", "--output=json", "nbd://127.0.0.1:" + port + "/demo");
        assertTrue(info.contains("\"virtual-size\": " + 64 * MiB), info);

        // The watchdog is pinged every half WATCHDOG_USEC.
        Thread.sleep(1000);
        long pings = messages(out).stream().filter("WATCHDOG=1"::equals).count();
        assertTrue(pings >= 3, pings + " watchdog pings");

        // SIGHUP re-reads the file. Its time is set back, so that only the signal (not the file watch) finds it.
        FileTime time = Files.getLastModifiedTime(config);
        Files.writeString(config, config(port, """
                , "more": {"kind": "file", "path": "more.img", "create": "2 MiB"}"""));
        Files.setLastModifiedTime(config, time);
        int before = messages(out).size();
        ExternalTools.ok(dir, "sh", "-c", "kill -HUP " + host.process().pid()); // the shell's own kill
        List<String> afterReload = awaitMessage(out, m -> m.startsWith("READY=1") && m.contains("(demo, more)"));
        List<String> reload = afterReload.subList(before, afterReload.size()).stream()
                .filter(m -> !m.equals("WATCHDOG=1")).toList();
        assertTrue(reload.getFirst().startsWith("RELOADING=1|MONOTONIC_USEC="), reload.toString());
        assertTrue(reload.getLast().startsWith("READY=1|STATUS=2 disks ready (demo, more)"), reload.toString());
        assertEquals(String.valueOf(2 * MiB), ExternalTools.ok(dir, "nbdinfo", "--size",
                "nbd://127.0.0.1:" + port + "/more").strip());
        assertTrue(host.process().isAlive(), "SIGHUP does not stop the host");

        // SIGTERM: STOPPING=1 first, then nothing but the end.
        host.stop();
        List<String> all = messages(out);
        int stopping = all.indexOf("STOPPING=1|STATUS=stopping: draining and closing every disk");
        assertTrue(stopping > 0, all.toString());
        assertEquals(List.of(), all.subList(stopping + 1, all.size()).stream()
                .filter(m -> !m.equals("WATCHDOG=1")).toList(), "nothing after STOPPING=1");
        assertTrue(host.output().contains("diskhost stopped"), host.output());
    }
}
