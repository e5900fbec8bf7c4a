package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The NBD frontend bundle in the test's framework with the host: configured through Configuration Admin, it serves a
 * disk on a Unix socket to qemu-io, a real client, whose writes land on the disk and whose reads see the disk's data.
 * (LauncherIT tests the frontend through the launcher, on Felix; this runs it on every framework the itests run on.)
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class NbdIT extends HostTestSupport {
    private static final String NBD_PID = "org.diskhost.nbd";

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("nbd", "diskhost-backend-file", "diskhost-frontend-nbd");
    }

    @Test
    public void qemuIoWritesAndReadsADiskThroughTheNbdServer() throws Exception {
        configure("it-nbd", "{\"kind\": \"file\", \"path\": \"it-nbd.img\", \"create\": \"4 MiB\"}");
        Disk disk = awaitDisk("it-nbd");
        Path socket = dataDirectory().resolve("nbd.sock");
        org.osgi.service.cm.Configuration nbd = configurationAdmin.getConfiguration(NBD_PID, "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("listen", "none");
        properties.put("unixSocket", socket.toString());
        nbd.update(properties);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(socket) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue("the NBD server listens on " + socket, Files.exists(socket));
            String uri = "nbd+unix:///it-nbd?socket=" + socket;

            String wrote = qemuIo(uri, "write -P 0x5a 4096 65536");
            assertTrue(wrote, wrote.contains("wrote 65536/65536 bytes"));
            byte[] expected = new byte[65536];
            Arrays.fill(expected, (byte) 0x5a);
            assertArrayEquals("qemu-io's write is on the disk", expected, read(disk, 8, 65536));

            String readBack = qemuIo(uri, "read -P 0x5a 4096 65536");
            assertTrue(readBack, readBack.contains("read 65536/65536 bytes") && !readBack.contains("failed"));
            String zeros = qemuIo(uri, "read -P 0 0 4096");
            assertTrue(zeros, zeros.contains("read 4096/4096 bytes") && !zeros.contains("failed"));
        } finally {
            nbd.delete();
        }
    }

    /** Runs qemu-io on {@code uri} with one command (bounded); returns its output, failing on a non-zero exit. */
    private static String qemuIo(String uri, String command) throws Exception {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "raw", "-c", command, uri));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(argv + " did not finish within 60 s");
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(argv + ":\n" + out, 0, p.exitValue());
        return out;
    }
}
