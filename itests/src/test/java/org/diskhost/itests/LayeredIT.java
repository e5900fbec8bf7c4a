package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.concurrent.CompletableFuture;
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
 * The layered bundle in a real Felix framework with the host and the file backend: a RAM diff over a file configured
 * through Configuration Admin and used as any disk, the file never written; a generic stack with a read cache; a RAM
 * disk resized at runtime through Configuration Admin and the shell, without a rebuild; a SQLite diff whose layer
 * bundle goes away and comes back, its disk waiting meanwhile and keeping its data.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LayeredIT extends HostTestSupport {
    private static final String RAM_PID = "org.diskhost.ram";

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("layered", "file", "layered", "layer-sqlite");
    }

    private static void write(Disk disk, long sector, byte[] data) throws Exception {
        MemorySegment from = Arena.ofAuto().allocate(data.length, 4096);
        from.copyFrom(MemorySegment.ofArray(data));
        disk.writeVectored(RequestBuffers.of(from, false), sector, true).get(30, TimeUnit.SECONDS);
    }

    private Path baseImage(String name, int bytes) throws Exception {
        byte[] content = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            content[i] = (byte) (i * 7 + i / 511);
        }
        return Files.write(dataDirectory().resolve(name), content);
    }

    @Test
    public void theLayeredBundleIsActiveAndItsKindsAvailable() throws Exception {
        for (Bundle b : context.getBundles()) {
            if ("org.diskhost.backend.layered".equals(b.getSymbolicName())) {
                assertEquals(Bundle.ACTIVE, b.getState());
            }
        }
        String kinds = awaitShell("layer kinds: disk ram sqlite sqlite-autocache", "kinds");
        assertTrue(kinds, kinds.contains("autocache file layered ram ramdiff sqlitediff"));
    }

    @Test
    public void aRamDiffOverAFileServesWritesFromMemoryAndNeverWritesTheFile() throws Exception {
        Path base = baseImage("it-base.img", 1 << 20);
        byte[] before = Files.readAllBytes(base);
        configure("it-diff", "{\"kind\": \"ramdiff\", \"disk\": {\"kind\": \"file\", \"path\": \"it-base.img\"}}");
        Disk disk = awaitDisk("it-diff");
        assertEquals(2048, disk.sectorCount());
        assertFalse(disk.isReadOnly());
        assertArrayEquals(java.util.Arrays.copyOf(before, 8192), read(disk, 0, 8192));

        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 0x5A);
        write(disk, 8, data);
        byte[] got = read(disk, 7, 9 * 512);
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 7 * 512, 8 * 512),
                java.util.Arrays.copyOf(got, 512));
        assertArrayEquals(data, java.util.Arrays.copyOfRange(got, 512, 512 + 4096));
        disk.syncCache().get(30, TimeUnit.SECONDS);
        assertArrayEquals("the base file is never written", before, Files.readAllBytes(base));

        String inspect = shell("inspect", "it-diff");
        assertTrue(inspect, inspect.contains("chain: ramdiff > file"));
        assertTrue(inspect, inspect.contains("layer_type: ram"));
        assertTrue(inspect, inspect.contains("layer_type: disk"));
    }

    @Test
    public void aGenericStackWithAReadCacheOverAFile() throws Exception {
        Path base = baseImage("it-cached.img", 256 * 1024);
        byte[] before = Files.readAllBytes(base);
        configure("it-stack", "{\"kind\": \"layered\", \"layers\": [{\"kind\": \"ram\"}, "
                + "{\"kind\": \"ram\", \"readCache\": true}, "
                + "{\"kind\": \"disk\", \"disk\": {\"kind\": \"file\", \"path\": \"it-cached.img\"}}]}");
        Disk disk = awaitDisk("it-stack");
        assertArrayEquals(before, read(disk, 0, before.length));
        assertArrayEquals("read again, from the cache", before, read(disk, 0, before.length));
        String inspect = shell("inspect", "it-stack");
        assertTrue(inspect, inspect.contains("read_cache: true"));
        assertTrue(inspect, inspect.contains("chain: layered > ram > disk > file"));
        assertTrue(inspect, inspect.contains("stored_bytes: 262144"));
    }

    @Test
    public void aRamDiskResizesAtRuntimeWithoutARebuild() throws Exception {
        configure("it-ram", "{\"kind\": \"ram\", \"size\": \"1 MiB\"}");
        Disk disk = awaitDisk("it-ram");
        assertEquals(2048, disk.sectorCount());
        byte[] data = new byte[512];
        java.util.Arrays.fill(data, (byte) 0x11);
        write(disk, 5, data);
        CompletableFuture<Long> resized = disk.waitResize(2048);

        org.osgi.service.cm.Configuration change = configurationAdmin.getFactoryConfiguration(RAM_PID, "it-ram",
                "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("size", "2 MiB");
        change.update(properties);
        assertEquals(Long.valueOf(4096), resized.get(30, TimeUnit.SECONDS));
        assertEquals(4096, disk.sectorCount());
        assertArrayEquals("the data stays", data, read(disk, 5, 512));
        assertTrue(shell("inspect", "it-ram").contains("chain_builds: 1\n"));

        assertEquals("disk 'it-ram': RAM size 524288 bytes (configuration " + RAM_PID + "~it-ram)",
                shell("ramresize", "it-ram", "512 KiB"));
        awaitShell("RAM layer of 1024 x 512 bytes", "ramresize", "it-ram");
        assertEquals(1024, disk.sectorCount());
        assertTrue(shell("ramresize", "it-ram", "1000").startsWith("error: size must be a multiple of the sector "
                + "size 512"));
        assertTrue(shell("inspect", "it-ram").contains("chain_builds: 1\n"));
        change.delete();
    }

    /** Stopping the SQLite layer bundle pauses the disk; it waits for the layer kind and comes back with its data. */
    @Test
    public void aSqliteDiffWaitsForItsLayerBundleAndKeepsItsData() throws Exception {
        Path base = baseImage("it-sql.img", 256 * 1024);
        byte[] before = Files.readAllBytes(base);
        configure("it-sql", "{\"kind\": \"sqlitediff\", \"path\": \"it-sql.dbhd\", "
                + "\"disk\": {\"kind\": \"file\", \"path\": \"it-sql.img\"}}");
        Disk disk = awaitDisk("it-sql");
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 0x3C);
        write(disk, 16, data);
        disk.syncCache().get(30, TimeUnit.SECONDS);
        assertTrue(shell("inspect", "it-sql").contains("chain: sqlitediff > sqlite > file"));

        Bundle sqlite = null;
        for (Bundle b : context.getBundles()) {
            if ("org.diskhost.backend.layer.sqlite".equals(b.getSymbolicName())) {
                sqlite = b;
            }
        }
        assertNotNull(sqlite);
        sqlite.stop();
        awaitShell("no resolver for kind 'sqlite'", "disks");
        CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return read(disk, 16, 4096);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        assertFalse("a read waits while the layer kind is missing", waiting.isDone());
        sqlite.start();
        assertArrayEquals("the data is back, read through the same disk", data, waiting.get(30, TimeUnit.SECONDS));
        String inspect = awaitShell("state: READY", "inspect", "it-sql");
        assertTrue(inspect, inspect.contains("chain_builds: 2"));
        assertArrayEquals("the base file is never written", before, Files.readAllBytes(base));
    }
}
