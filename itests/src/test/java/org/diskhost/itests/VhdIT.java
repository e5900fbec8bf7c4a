package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

/**
 * The VHD bundle in a real Felix framework with the host: kind {@code vhd1} serves a fixed VHD it creates, kind
 * {@code vhd} a differencing image over a dynamic one, found through its parent locator, and layer kind {@code vhd}
 * keeps the writes to a {@code layered} disk in a VHD file over a file disk that is never written.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class VhdIT extends HostTestSupport {
    private static final long TIMEOUT_SECONDS = 30;

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("vhd", "file", "layered", "vhd");
    }

    private static void write(Disk disk, long sector, MemorySegment data) throws Exception {
        disk.writeVectored(RequestBuffers.of(data, false), sector, false).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Deletes the disk's configuration and waits until the host has closed it (its images flushed). */
    private void remove(String name) throws Exception {
        org.osgi.service.cm.Configuration c = configurationAdmin.getFactoryConfiguration("org.diskhost.disk", name,
                "?");
        c.delete();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!context.getServiceReferences(Disk.class, "(diskhost.name=" + name + ")").isEmpty()) {
            assertTrue("disk '" + name + "' was not removed in time", System.nanoTime() < deadline);
            Thread.sleep(20);
        }
        awaitShell("", "disks"); // the host has processed the removal
    }

    @Test
    public void theBundleIsActiveAndItsKindsAvailable() throws Exception {
        assertEquals(Bundle.ACTIVE, bundle("org.diskhost.backend.vhd").getState());
        String kinds = awaitShell("vhd1", "kinds");
        assertTrue(kinds, List.of(kinds.lines().findFirst().orElse("").trim().split("\\s+")).containsAll(
                List.of("vhd", "vhd1")));
        assertTrue(kinds, kinds.contains("layer kinds: ") && kinds.substring(kinds.indexOf("layer kinds: "))
                .contains("vhd"));
    }

    @Test
    public void aFixedVhdIsCreatedAndServed() throws Exception {
        configure("it-fixed", "{\"kind\": \"vhd1\", \"path\": \"it-fixed.vhd\", \"create\": \"1 MiB\"}");
        Disk disk = awaitDisk("it-fixed");
        assertEquals(512, disk.sectorSize());
        assertTrue("a disk id from the footer", disk.diskId().isPresent());
        MemorySegment data = pattern(8192, 7);
        write(disk, disk.sectorCount() - 16, data);
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, disk.sectorCount() - 16, 8192));
        String inspect = awaitShell("vhd-fixed", "inspect", "it-fixed");
        assertTrue(inspect, inspect.contains("disk_type: vhd1"));
        remove("it-fixed");
        long length = Files.size(dataDirectory().resolve("it-fixed.vhd"));
        assertEquals("data and a footer", disk.sectorCount() * 512 + 512, length);
    }

    @Test
    public void aDifferencingChainIsServedAsOneDisk() throws Exception {
        configure("it-base", "{\"kind\": \"vhd\", \"path\": \"chain/base.vhd\", \"create\": \"4 MiB\"}");
        Disk base = awaitDisk("it-base");
        MemorySegment old = pattern(64 * 1024, 1);
        write(base, 0, old);
        remove("it-base");

        configure("it-child", "{\"kind\": \"vhd\", \"path\": \"chain/child.vhd\", \"parent\": \"chain/base.vhd\"}");
        Disk child = awaitDisk("it-child");
        assertArrayEquals("the parent's data through the child", old.toArray(ValueLayout.JAVA_BYTE),
                read(child, 0, 64 * 1024));
        MemorySegment fresh = pattern(4096, 2);
        write(child, 8, fresh);
        byte[] expected = old.toArray(ValueLayout.JAVA_BYTE);
        MemorySegment.copy(fresh, ValueLayout.JAVA_BYTE, 0, expected, 8 * 512, 4096);
        assertArrayEquals(expected, read(child, 0, 64 * 1024));
        String inspect = awaitShell("vhd-differencing", "inspect", "it-child");
        assertTrue(inspect, inspect.contains("vhd-dynamic"));
        remove("it-child");

        // The parent was never written: it still reads as before, and the child reopens with its data.
        configure("it-child", "{\"kind\": \"vhd\", \"path\": \"chain/child.vhd\", \"readOnly\": true}");
        assertArrayEquals(expected, read(awaitDisk("it-child"), 0, 64 * 1024));
        configure("it-base", "{\"kind\": \"vhd\", \"path\": \"chain/base.vhd\", \"readOnly\": true}");
        assertArrayEquals(old.toArray(ValueLayout.JAVA_BYTE), read(awaitDisk("it-base"), 0, 64 * 1024));
    }

    @Test
    public void aVhdLayerKeepsTheWritesOverAnyDisk() throws Exception {
        byte[] under = pattern(1 << 20, 4).toArray(ValueLayout.JAVA_BYTE);
        Files.write(dataDirectory().resolve("under.img"), under); // below a layer that is not write-through: read-only
        configure("it-layered", "{\"kind\": \"layered\", \"layers\": [{\"kind\": \"vhd\", \"path\": \"over.vhd\"}, "
                + "{\"kind\": \"disk\", \"disk\": {\"kind\": \"file\", \"path\": \"under.img\"}}]}");
        Disk disk = awaitDisk("it-layered");
        assertEquals("the VHD layer takes the size of the disk below", 2048, disk.sectorCount());
        MemorySegment data = pattern(8192, 3);
        write(disk, 100, data);
        byte[] expected = under.clone();
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, expected, 100 * 512, 8192);
        assertArrayEquals(expected, read(disk, 0, 1 << 20));
        remove("it-layered");
        assertArrayEquals("the disk below was never written", under,
                Files.readAllBytes(dataDirectory().resolve("under.img")));
        assertTrue(Files.size(dataDirectory().resolve("over.vhd")) > 8192);
    }
}
