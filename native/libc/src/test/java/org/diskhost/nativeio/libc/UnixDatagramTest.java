package org.diskhost.nativeio.libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Datagrams to a real Unix datagram socket, received by Python's socket module (the JDK has no such socket). */
class UnixDatagramTest {
    @TempDir
    Path dir;

    /** Receives {@code count} datagrams on {@code address} and writes them, one per line, to {@code out}. */
    private Process receiver(String address, int count, Path out) throws Exception {
        String bind = address.startsWith("@") ? "'\\0" + address.substring(1) + "'" : "'" + address + "'";
        String script = "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                + "s.bind(" + bind + ")\n"
                + "open(sys.argv[1] + '.bound','w').close()\n"
                + "with open(sys.argv[1],'w') as f:\n"
                + "    for i in range(" + count + "):\n"
                + "        f.write(s.recv(65536).decode().replace('\\n','|') + '\\n'); f.flush()\n";
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", script, out.toString()).inheritIO().start();
        Path bound = Path.of(out + ".bound");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(bound) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(Files.exists(bound), "the receiver bound its socket");
        return p;
    }

    @Test
    void sendsToAPathAndToAnAbstractName() throws Exception {
        Path socket = dir.resolve("notify.sock");
        Path out = dir.resolve("received.txt");
        Process p = receiver(socket.toString(), 2, out);
        UnixDatagram.send(socket.toString(), "READY=1\nSTATUS=ok".getBytes(StandardCharsets.UTF_8));
        UnixDatagram.send(socket.toString(), "STOPPING=1".getBytes(StandardCharsets.UTF_8));
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(List.of("READY=1|STATUS=ok", "STOPPING=1"), Files.readAllLines(out));

        String name = "@diskhost-test-" + ProcessHandle.current().pid();
        Path abstractOut = dir.resolve("abstract.txt");
        Process q = receiver(name, 1, abstractOut);
        UnixDatagram.send(name, "WATCHDOG=1".getBytes(StandardCharsets.UTF_8));
        assertTrue(q.waitFor(20, TimeUnit.SECONDS));
        assertEquals(List.of("WATCHDOG=1"), Files.readAllLines(abstractOut));
    }

    @Test
    void failuresNameTheAddressAndTheErrno() {
        ErrnoException missing = assertThrows(ErrnoException.class,
                () -> UnixDatagram.send(dir.resolve("nobody.sock").toString(), new byte[] {1}));
        assertEquals(Errno.ENOENT, missing.errno());
        assertTrue(missing.getMessage().startsWith("send to " + dir.resolve("nobody.sock")), missing.getMessage());
        ErrnoException tooLong = assertThrows(ErrnoException.class,
                () -> UnixDatagram.send("/" + "x".repeat(200), new byte[] {1}));
        assertEquals(Errno.ENAMETOOLONG, tooLong.errno());
    }
}
