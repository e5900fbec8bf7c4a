package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.DiskResolver;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

/**
 * The host in a real OSGi framework (Felix or Equinox, as the failsafe execution chooses): SCR, Configuration Admin,
 * the API, the file backend and the host core, all provisioned from the jars of this build.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HostIT extends HostTestSupport {
    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("host", "file");
    }

    @Test
    public void theHostBundlesAreActive() {
        for (String bsn : List.of("org.apache.felix.scr", "org.apache.felix.configadmin", "org.diskhost.api",
                "org.diskhost.backend.file", "org.diskhost.host.core")) {
            assertEquals(bsn + " is active", Bundle.ACTIVE, bundle(bsn).getState());
        }
    }

    /** The framework is the one this failsafe execution names: the other one is not on its class path. */
    @Test
    public void theFrameworkIsTheOneThisRunNames() {
        String run = System.getProperty("diskhost.it.framework");
        Assume.assumeNotNull(run); // set by both failsafe executions, not by an IDE
        String expected = Map.of("felix", "org.apache.felix.framework", "equinox", "org.eclipse.osgi").get(run);
        assertEquals(expected, context.getBundle(0).getSymbolicName());
    }

    /**
     * The file backend's native engines (FFM downcalls from a bundle class; io_uring from the privately copied
     * {@code org.diskhost.nativeio.uring}) work in this framework; {@code native} is the old name of {@code threads}.
     */
    @Test
    public void aFileDiskGetsEachNativeEngineInsideTheFramework() throws Exception {
        for (String[] engine : new String[][] {{"uring", "uring"}, {"threads", "threads"}, {"native", "threads"}}) {
            String name = "it-" + engine[0];
            configure(name, "{\"kind\": \"file\", \"path\": \"" + name + ".img\", \"create\": \"1 MiB\", "
                    + "\"engine\": \"" + engine[0] + "\"}");
            Disk disk = awaitDisk(name);
            MemorySegment data = pattern(4096, 5);
            disk.writeVectored(RequestBuffers.of(data, false), 0, true).get(30, TimeUnit.SECONDS);
            assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, 0, 4096));
            String inspect = shell("inspect", name);
            assertTrue(inspect, inspect.contains("engine: " + engine[1]));
        }
    }

    @Test
    public void aConfiguredDiskResolvesAndItsDataIsInTheFile() throws Exception {
        configure("it-data", "{\"kind\": \"file\", \"path\": \"it-data.img\", \"create\": \"1 MiB\"}");
        Disk disk = awaitDisk("it-data");
        assertEquals(2048, disk.sectorCount());
        MemorySegment data = pattern(4096, 7);
        disk.writeVectored(RequestBuffers.of(data, false), 10, true).get(30, TimeUnit.SECONDS);
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, 10, 4096));
        byte[] file = Files.readAllBytes(dataDirectory().resolve("it-data.img"));
        byte[] atOffset = java.util.Arrays.copyOfRange(file, 10 * 512, 10 * 512 + 4096);
        assertArrayEquals("the data is in the file at sector 10", data.toArray(ValueLayout.JAVA_BYTE), atOffset);
        assertTrue(shell("disks").contains("it-data"));
        assertTrue(shell("inspect", "it-data").contains("state: READY"));
    }

    /** Updating the file backend bundle rebuilds the disk; requests issued meanwhile wait and succeed. */
    @Test
    public void updatingTheFileBackendRebuildsTheDiskWithTheDataIntact() throws Exception {
        configure("it-swap", "{\"kind\": \"file\", \"path\": \"it-swap.img\", \"create\": \"4 MiB\"}");
        Disk disk = awaitDisk("it-swap");
        MemorySegment data = pattern(64 * 1024, 3);
        disk.writeVectored(RequestBuffers.of(data, false), 0, false).get(30, TimeUnit.SECONDS);
        long resolverBefore = (Long) context.getServiceReference(DiskResolver.class).getProperty("service.id");

        // Continuous verified I/O while the bundle is updated.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong done = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
            int round = 0;
            while (!stop.get() && failure.get() == null) {
                try {
                    long sector = 1024 + (round % 64) * 8L;
                    MemorySegment chunk = pattern(4096, round);
                    disk.writeVectored(RequestBuffers.of(chunk, false), sector, false).get(30, TimeUnit.SECONDS);
                    if (!java.util.Arrays.equals(chunk.toArray(ValueLayout.JAVA_BYTE), read(disk, sector, 4096))) {
                        throw new AssertionError("data mismatch at sector " + sector);
                    }
                    done.incrementAndGet();
                    round++;
                } catch (Throwable t) {
                    failure.set(t);
                }
            }
        });
        Thread.sleep(200);
        long before = done.get();
        updateFromBuild("org.diskhost.backend.file", "diskhost-backend-file");
        Thread.sleep(500);
        stop.set(true);
        load.get(60, TimeUnit.SECONDS);
        if (failure.get() != null) {
            throw new AssertionError("a request failed across the update", failure.get());
        }
        assertTrue("requests ran across the update", done.get() > before);

        long resolverAfter = (Long) context.getServiceReference(DiskResolver.class).getProperty("service.id");
        assertNotEquals("a new resolver service came up", resolverBefore, resolverAfter);
        assertArrayEquals("the data survived the rebuild", data.toArray(ValueLayout.JAVA_BYTE),
                read(disk, 0, 64 * 1024));
        String inspect = shell("inspect", "it-swap");
        assertTrue(inspect, inspect.contains("state: READY"));
        assertTrue(inspect, !inspect.contains("chain_builds: 1\n"));
    }

    @Test
    public void badConfigurationsGiveTheDocumentedErrorsAndTheHostKeepsRunning() throws Exception {
        configure("it-good", "{\"kind\": \"file\", \"path\": \"it-good.img\", \"create\": \"1 MiB\"}");
        configure("it-bad-size", "{\"kind\": \"file\", \"path\": \"x.img\", \"create\": \"1 MiB\", \"sectorSize\": 1000}");
        configure("it-no-kind", "{\"kind\": \"nope\"}");
        configure("it-no-file", "{\"kind\": \"file\", \"path\": \"missing.img\"}");
        configure("it-bad-json", "{\"kind\": ");

        String disks = awaitShell("setting 'sectorSize'", "disks");
        assertTrue(disks, disks.contains("disk 'it-bad-size', kind 'file', setting 'sectorSize': must be 512 or 4096, got 1000"));
        disks = awaitShell("no resolver for kind 'nope'", "disks");
        assertTrue(disks, disks.contains("disk 'it-no-kind': no resolver for kind 'nope'"));
        disks = awaitShell("no such file", "disks");
        assertTrue(disks, disks.contains("disk 'it-no-file', kind 'file': no such file"));
        disks = awaitShell("not valid JSON", "disks");
        assertTrue(disks, disks.contains("disk 'it-bad-json': diskhost.spec is not valid JSON: line 1"));

        // The rest of the host is unaffected.
        Disk good = awaitDisk("it-good");
        good.writeVectored(RequestBuffers.of(pattern(512, 1), false), 0, false).get(30, TimeUnit.SECONDS);
        assertEquals(Bundle.ACTIVE, context.getBundle(0).getState());
        assertEquals(Bundle.ACTIVE, bundle("org.diskhost.host.core").getState());
        assertTrue(context.getServiceReferences(Disk.class, "(diskhost.name=it-bad-size)").isEmpty());

        // Fixing the configuration brings the disk up.
        configure("it-bad-size", "{\"kind\": \"file\", \"path\": \"x.img\", \"create\": \"1 MiB\", \"sectorSize\": 4096}");
        assertEquals(4096, awaitDisk("it-bad-size").sectorSize());
    }
}
