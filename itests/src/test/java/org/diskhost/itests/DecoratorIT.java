package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.ReservationReport;
import org.diskhost.api.pr.ReservationType;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/**
 * The decorator bundles (delay, striped, prwrap) in a real Felix framework with the host: chains built across
 * bundles, delays changed through Configuration Admin on a live disk without a rebuild, and reservations and delay
 * changes surviving the rebuild that updating a backend bundle below them causes.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DecoratorIT extends HostTestSupport {
    private static final String DELAY_PID = "org.diskhost.delay";

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("decor", "file", "delay", "striped", "prwrap");
    }

    private long serviceId(String name) throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences(Disk.class.getName(), "(diskhost.name=" + name + ")");
        assertNotNull(refs);
        return (Long) refs[0].getProperty("service.id");
    }

    private static long millisToRead(Disk disk) throws Exception {
        long start = System.nanoTime();
        read(disk, 0, 4096);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String file(String path) {
        return "{\"kind\": \"file\", \"path\": \"" + path + "\", \"create\": \"1 MiB\"}";
    }

    @Test
    public void theDecoratorBundlesAreActiveAndTheirKindsAvailable() throws Exception {
        for (String bsn : List.of("org.diskhost.backend.delay", "org.diskhost.backend.striped",
                "org.diskhost.backend.prwrap")) {
            assertEquals(bsn + " is active", Bundle.ACTIVE, bundle(bsn).getState());
        }
        awaitShell("delay file prwrap striped", "kinds");
    }

    @Test
    public void aConfigurationAdminUpdateChangesTheDelayOfALiveDiskWithoutARebuild() throws Exception {
        configure("it-delay", "{\"kind\": \"delay\", \"readDelay\": 0, \"disk\": " + file("it-delay.img") + "}");
        Disk disk = awaitDisk("it-delay");
        long published = serviceId("it-delay");
        millisToRead(disk);
        awaitShell("read_delay: 0\n", "inspect", "it-delay");

        org.osgi.service.cm.Configuration change = configurationAdmin.getFactoryConfiguration(DELAY_PID, "it-delay",
                "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("readDelay", "900ms");
        change.update(properties);
        String inspect = awaitShell("read_delay: 900ms", "inspect", "it-delay");
        assertTrue(inspect, inspect.contains("delays_from: " + DELAY_PID + "~it-delay"));
        long delayed = millisToRead(disk);
        assertTrue("a read on the live disk waited " + delayed + " ms", delayed >= 900);

        inspect = shell("inspect", "it-delay");
        assertTrue("the host did not rebuild the disk:\n" + inspect, inspect.contains("chain_builds: 1\n"));
        assertEquals("the same disk service", published, serviceId("it-delay"));

        change.delete();
        awaitShell("read_delay: 0\n", "inspect", "it-delay");
        assertTrue(millisToRead(disk) < 900);
        assertTrue(shell("inspect", "it-delay").contains("chain_builds: 1\n"));
    }

    @Test
    public void theShellCommandsDriveTheSameConfiguration() throws Exception {
        configure("it-shell", "{\"kind\": \"delay\", \"writeDelay\": \"5ms\", \"disk\": " + file("it-shell.img")
                + "}");
        awaitDisk("it-shell");
        assertTrue(shell("delay", "it-shell").contains("no runtime change"));
        assertTrue(shell("delay", "it-shell", "soon", "0").startsWith("error: disk 'it-shell', kind 'delay', "
                + "setting 'readDelay': must be a duration"));
        assertEquals("disk 'it-shell': read delay 250ms, write delay 0 (configuration " + DELAY_PID
                + "~it-shell)", shell("delay", "it-shell", "250ms", "0"));
        org.osgi.service.cm.Configuration stored = configurationAdmin.getConfiguration(DELAY_PID + "~it-shell", "?");
        assertEquals("250ms", stored.getProperties().get("readDelay"));
        String inspect = awaitShell("read_delay: 250ms", "inspect", "it-shell");
        assertTrue(inspect, inspect.contains("write_delay: 0\n"));
        assertTrue(shell("delay", "it-shell").contains("readDelay 250ms, writeDelay 0"));

        assertEquals("disk 'it-shell': back to the spec's delays", shell("delayreset", "it-shell"));
        inspect = awaitShell("write_delay: 5ms", "inspect", "it-shell");
        assertTrue(inspect, inspect.contains("read_delay: 0\n"));
        assertTrue(inspect, inspect.contains("chain_builds: 1\n"));
    }

    /** delay > prwrap > striped > file: data lands in the member files chunk by chunk; PR reaches the frontend. */
    @Test
    public void aChainOfEveryDecoratorOverFiles() throws Exception {
        configure("it-chain", "{\"kind\": \"delay\", \"writeDelay\": \"1ms\", \"disk\": {\"kind\": \"prwrap\", "
                + "\"disk\": {\"kind\": \"striped\", \"chunkSize\": \"64 KiB\", \"members\": [" + file("chain-a.img")
                + ", " + file("chain-b.img") + "]}}}");
        Disk disk = awaitDisk("it-chain");
        assertEquals(2 * 2048, disk.sectorCount());
        assertTrue(shell("disks").contains("delay > prwrap > striped > file"));

        MemorySegment data = pattern(512 * 1024, 5); // 8 chunks from sector 0
        disk.writeVectored(RequestBuffers.of(data, false), 0, true).get(30, TimeUnit.SECONDS);
        byte[] written = data.toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(written, read(disk, 0, written.length));
        byte[] a = Files.readAllBytes(dataDirectory().resolve("chain-a.img"));
        byte[] b = Files.readAllBytes(dataDirectory().resolve("chain-b.img"));
        int chunk = 64 * 1024;
        for (int c = 0; c < 8; c++) {
            byte[] member = c % 2 == 0 ? a : b;
            int row = c / 2;
            assertArrayEquals("chunk " + c, Arrays.copyOfRange(written, c * chunk, (c + 1) * chunk),
                    Arrays.copyOfRange(member, row * chunk, (row + 1) * chunk));
        }

        PersistentReservation pr = disk.pr().orElseThrow(() -> new AssertionError("the published disk has PR"));
        pr.register(OptionalLong.empty(), 0xC0FFEEL, Optional.of(true)).get(30, TimeUnit.SECONDS);
        pr.reserve(0xC0FFEEL, ReservationType.WRITE_EXCLUSIVE).get(30, TimeUnit.SECONDS);
        ReservationReport report = pr.report().get(30, TimeUnit.SECONDS);
        assertEquals(Optional.of(ReservationType.WRITE_EXCLUSIVE), report.reservationType());
        assertEquals(1, report.generation());
    }

    /**
     * Updating the file backend rebuilds a delay > prwrap > file chain: the reservation and the runtime delay change
     * are still there on the new chain.
     */
    @Test
    public void reservationsAndDelayChangesSurviveARebuildBelowThem() throws Exception {
        configure("it-keep", "{\"kind\": \"delay\", \"disk\": {\"kind\": \"prwrap\", \"disk\": "
                + file("it-keep.img") + "}}");
        Disk disk = awaitDisk("it-keep");
        PersistentReservation pr = disk.pr().orElseThrow();
        pr.register(OptionalLong.empty(), 0xAB, Optional.empty()).get(30, TimeUnit.SECONDS);
        pr.reserve(0xAB, ReservationType.EXCLUSIVE_ACCESS).get(30, TimeUnit.SECONDS);
        assertEquals("disk 'it-keep': read delay 120ms, write delay 0 (configuration " + DELAY_PID + "~it-keep)",
                shell("delay", "it-keep", "120ms", "0"));
        awaitShell("read_delay: 120ms", "inspect", "it-keep");

        updateFromBuild("org.diskhost.backend.file", "diskhost-backend-file");
        read(disk, 0, 512); // waits for the rebuilt chain if need be
        String rebuilt = awaitShell("state: READY", "inspect", "it-keep");
        assertTrue("the chain was rebuilt:\n" + rebuilt, !rebuilt.contains("chain_builds: 1\n"));

        ReservationReport report = disk.pr().orElseThrow().report().get(30, TimeUnit.SECONDS);
        assertEquals(Optional.of(ReservationType.EXCLUSIVE_ACCESS), report.reservationType());
        assertEquals(0xAB, report.controllers().getFirst().key());
        String inspect = shell("inspect", "it-keep");
        assertTrue(inspect, inspect.contains("read_delay: 120ms"));
        assertTrue(millisToRead(disk) >= 120);
        shell("delayreset", "it-keep");
    }
}
