package org.diskhost.backend.blockdevice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.nativeio.uring.UringSupport;
import org.diskhost.testkit.LoopDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block disk on real loop devices and regular files: what §6.5 of the reference says, and what goes beyond. */
class BlockDiskTest {
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private final List<LoopDevice> loops = new ArrayList<>();
    private final List<Disk> disks = new ArrayList<>();
    private Arena arena;

    @BeforeEach
    void arena() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void cleanUp() throws Exception {
        disks.forEach(Disk::close);
        for (LoopDevice loop : loops) {
            loop.close();
        }
        arena.close();
    }

    private LoopDevice loop(LoopDevice.Builder builder) throws Exception {
        LoopDevice loop = builder.attach();
        loops.add(loop);
        return loop;
    }

    private Path file(String name, int bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, new byte[bytes]);
        return file;
    }

    private Disk open(Map<String, Object> settings) {
        Disk disk = BlockDisks.resolve(dir, settings);
        disks.add(disk);
        return disk;
    }

    private static String sysfs(LoopDevice loop, String attribute) throws Exception {
        return Files.readString(loop.sysfs().resolve(attribute)).strip();
    }

    private MemorySegment pattern(int bytes, int seed) {
        MemorySegment s = arena.allocate(bytes, 4096);
        for (int i = 0; i < bytes; i++) {
            s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return s;
    }

    private static void write(Disk disk, MemorySegment data, long sector, boolean fua) {
        disk.writeVectored(RequestBuffers.of(data, false), sector, fua).join();
    }

    private byte[] read(Disk disk, long sector, int bytes) {
        MemorySegment into = arena.allocate(bytes, 4096);
        disk.readVectored(RequestBuffers.of(into, true), sector).join();
        return into.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private static DiskError error(CompletableFuture<?> future) {
        return DiskError.of(assertThrows(CompletionException.class,
                () -> future.orTimeout(10, TimeUnit.SECONDS).join()));
    }

    @Test
    void metadataComesFromSysfs() throws Exception {
        BlockDisks.assumeUring();
        for (int sectorSize : new int[] {512, 4096}) {
            LoopDevice loop = loop(LoopDevice.over(file("m" + sectorSize + ".img", 2 * MIB)).sectorSize(sectorSize));
            Disk disk = open(Map.of("path", loop.path().toString()));
            assertEquals(sectorSize, disk.sectorSize());
            assertEquals(2L * MIB / sectorSize, disk.sectorCount());
            assertEquals(Math.max(sectorSize, Integer.parseInt(sysfs(loop, "queue/physical_block_size"))),
                    disk.physicalSectorSize());
            assertEquals(!"0".equals(sysfs(loop, "queue/fua")), disk.isFuaRespected());
            long granularity = Long.parseLong(sysfs(loop, "queue/discard_granularity"));
            assertEquals(granularity == 0 ? UnmapBehavior.IGNORED : UnmapBehavior.UNSPECIFIED, disk.unmapBehavior());
            assertEquals(Math.max(1, granularity / sectorSize), disk.optimalUnmapSectors());
            assertEquals("block", disk.diskType());
            assertTrue(disk.pr().isEmpty(), "a loop device has no persistent reservations");
            assertFalse(disk.isReadOnly());
            String inspect = InspectTree.of(disk).toString();
            assertTrue(inspect.contains("uring (O_DIRECT)"), inspect);
            assertTrue(inspect.contains("listening"), inspect);
        }
    }

    @Test
    void writesReachTheDeviceAndFuaWritesAreDurable() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("w.img", MIB)).directIo(true));
        Disk disk = open(Map.of("path", loop.path().toString()));
        MemorySegment data = pattern(64 * 1024, 7);
        write(disk, data, 100, true);
        write(disk, pattern(4096, 9), 300, false);
        disk.syncCache().join();
        byte[] onFile = Arrays.copyOfRange(Files.readAllBytes(loop.file()), 100 * 512, 100 * 512 + 64 * 1024);
        assertArrayEquals(data.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), onFile);
        assertArrayEquals(onFile, read(disk, 100, 64 * 1024));
    }

    @Test
    void unalignedMemoryIsBouncedUnderODirect() throws Exception {
        BlockDisks.assumeUring();
        LoopDevice loop = loop(LoopDevice.over(file("b.img", MIB)).sectorSize(4096));
        Disk disk = open(Map.of("path", loop.path().toString()));
        MemorySegment unaligned = arena.allocate(8192 + 8, 4096).asSlice(8, 8192);
        MemorySegment.copy(pattern(8192, 3), 0, unaligned, 0, 8192);
        write(disk, unaligned, 2, false);
        assertArrayEquals(unaligned.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), read(disk, 2, 8192));
        MemorySegment heap = MemorySegment.ofArray(new byte[4096]);
        disk.readVectored(RequestBuffers.of(heap, true), 2).join();
        assertTrue(InspectTree.of(disk).toString().contains("bounced_requests: 2"), InspectTree.of(disk).toString());
    }

    @Test
    void discardUnmapsOnTheDevice() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("d.img", MIB)));
        Disk disk = open(Map.of("path", loop.path().toString()));
        write(disk, pattern(MIB, 5), 0, true);
        long allocated = allocatedBytes(loop.file());
        disk.unmap(256, 1024, false).join(); // 512 KiB from 128 KiB
        disk.syncCache().join();
        // A loop device discards by punching holes in its file: the range reads as zeros and is no longer allocated.
        assertArrayEquals(new byte[512 * 1024], read(disk, 256, 512 * 1024));
        assertTrue(allocatedBytes(loop.file()) <= allocated - 512 * 1024, "holes punched in the backing file");
        assertEquals(DiskError.IllegalBlock.class, error(disk.unmap(disk.sectorCount() - 1, 2, false)).getClass());
    }

    private static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).start();
        String[] out = new String(p.getInputStream().readAllBytes()).strip().split(" ");
        p.waitFor();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    @Test
    void aReadOnlyDeviceMakesAReadOnlyDisk() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("ro.img", MIB)).readOnly(true));
        Disk disk = open(Map.of("path", loop.path().toString()));
        assertTrue(disk.isReadOnly());
        assertEquals(DiskError.ReadOnly.class, error(disk.writeVectored(
                RequestBuffers.of(pattern(512, 1), false), 0, false)).getClass());
        read(disk, 0, 4096);
    }

    @Test
    void aTransferPastTheEndOfTheDeviceIsIllegalBlock() throws Exception {
        BlockDisks.assumeUring();
        LoopDevice loop = loop(LoopDevice.over(file("end.img", MIB)));
        // The backend itself, below Disk's range check: the kernel's short transfer and ENOSPC are what tell.
        BlockOptions options = BlockOptions.parse(org.diskhost.api.resolve.Settings.of("test", "block",
                Map.of("path", loop.path().toString()), dir), false, org.diskhost.nativeio.uring.Uring.probe());
        BlockDisk disk = BlockDisk.open(options, org.diskhost.nativeio.uring.Uring.probe());
        try {
            long last = disk.sectorCount() - 1;
            assertEquals(DiskError.IllegalBlock.class, DiskError.of(assertThrows(CompletionException.class,
                    () -> disk.readVectored(RequestBuffers.of(arena.allocate(4096, 4096), true), last).join()))
                    .getClass());
            assertEquals(DiskError.IllegalBlock.class, DiskError.of(assertThrows(CompletionException.class,
                    () -> disk.writeVectored(RequestBuffers.of(pattern(4096, 1), false), last, false).join()))
                    .getClass());
            assertEquals(DiskError.IllegalBlock.class, DiskError.of(assertThrows(CompletionException.class,
                    () -> disk.readVectored(RequestBuffers.of(arena.allocate(4096, 4096), true), Long.MAX_VALUE / 512)
                            .join())).getClass());
        } finally {
            disk.close();
        }
    }

    @Test
    void exclusiveKeepsASecondExclusiveOpenerOut() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("x.img", MIB)));
        open(Map.of("path", loop.path().toString(), "exclusive", true));
        ResolveException refused = assertThrows(ResolveException.class,
                () -> open(Map.of("path", loop.path().toString(), "exclusive", true)));
        assertTrue(refused.getMessage().contains("exclusive=true") && refused.getMessage().contains("busy"),
                refused.getMessage());
        // Without exclusive, a second opener is not kept out (as without O_EXCL anywhere).
        open(Map.of("path", loop.path().toString()));
    }

    @Test
    void growingTheDeviceCompletesWaitResizeWithAndWithoutUevents() throws Exception {
        for (boolean uevents : new boolean[] {true, false}) {
            Path file = file("grow-" + uevents + ".img", MIB);
            LoopDevice loop = loop(LoopDevice.over(file));
            Disk disk = open(Map.of("path", loop.path().toString(), "uevents", uevents));
            assertEquals(2048, disk.sectorCount());
            CompletableFuture<Long> resized = disk.waitResize(2048);
            assertFalse(resized.isDone());
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(3L * MIB);
            }
            long start = System.nanoTime();
            loop.resize();
            assertEquals(6144L, resized.get(1, TimeUnit.SECONDS), "uevents " + uevents);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(millis < 1000, "resized after " + millis + " ms");
            assertEquals(6144, disk.sectorCount());
            read(disk, 6143, 512); // the new end is readable through Disk's range check
            String inspect = InspectTree.of(disk).toString();
            assertTrue(inspect.contains(uevents ? "listening" : "off (setting uevents=false)"), inspect);
        }
    }

    @Test
    void aDeviceDetachedUnderIoNeverHangsARequest() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("gone.img", 4 * MIB)));
        Disk disk = open(Map.of("path", loop.path().toString()));
        AtomicBoolean stop = new AtomicBoolean();
        List<CompletableFuture<Void>> requests = new ArrayList<>();
        Thread load = Thread.ofPlatform().start(() -> {
            long sector = 0;
            while (!stop.get()) {
                MemorySegment buffer = arena.allocate(65536, 4096);
                CompletableFuture<Void> r = sector % 2 == 0
                        ? disk.readVectored(RequestBuffers.of(buffer, true), sector % 8000)
                        : disk.writeVectored(RequestBuffers.of(buffer, false), sector % 8000, false);
                synchronized (requests) {
                    requests.add(r);
                }
                r.exceptionally(t -> null).join();
                sector += 128;
            }
        });
        Thread.sleep(200);
        loop.detach();
        Thread.sleep(300);
        stop.set(true);
        load.join(10_000);
        assertFalse(load.isAlive(), "the load ended: no request hangs");
        synchronized (requests) {
            for (CompletableFuture<Void> r : requests) {
                assertTrue(r.isDone());
                if (r.isCompletedExceptionally()) {
                    DiskError e = DiskError.of(assertThrows(CompletionException.class, r::join));
                    assertInstanceOf(DiskError.Io.class, e, "a device that went away gives Io: " + e);
                }
            }
        }
        disk.close();
        disks.remove(disk);
        // The kernel frees a loop device detached while open once its last user closes it.
        for (int i = 0; i < 50 && Files.exists(loop.sysfs().resolve("loop")); i++) {
            Thread.sleep(100);
        }
        assertFalse(Files.exists(loop.sysfs().resolve("loop")),
                "the device was freed when the disk closed");
    }

    @Test
    void ejectIsUnsupportedOnAnythingButACdRom() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("e.img", MIB)));
        Disk disk = open(Map.of("path", loop.path().toString()));
        assertEquals(DiskError.UnsupportedEject.class, error(disk.eject()).getClass());
        Disk file = open(Map.of("path", file("ef.img", MIB).toString()));
        assertEquals(DiskError.UnsupportedEject.class, error(file.eject()).getClass());
    }

    @Test
    void aRegularFileIsTreatedAsTheReferenceTreatsOne() throws Exception {
        Path path = file("regular.img", MIB + 100);
        Disk disk = open(Map.of("path", path.toString()));
        assertEquals(512, disk.sectorSize());
        assertEquals(2048, disk.sectorCount(), "the length at open, in whole sectors");
        assertFalse(disk.isFuaRespected());
        assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
        assertEquals(DiskError.IllegalBlock.class, error(disk.writeVectored(
                RequestBuffers.of(pattern(1024, 1), false), 2047, false)).getClass());
        assertEquals(MIB + 100, Files.size(path), "the file never grows");
        write(disk, pattern(MIB, 2), 0, false);
        disk.unmap(0, 2048, false).join();
        assertArrayEquals(new byte[MIB], read(disk, 0, MIB));
        assertEquals(DiskError.UnsupportedEject.class, error(disk.eject()).getClass());
        assertTrue(disk.waitResize(2048).completeOnTimeout(-1L, 200, TimeUnit.MILLISECONDS).join() == -1L,
                "a regular file's size is fixed");
    }

    @Test
    void withoutIoUringTheThreadsEngineServesThroughThePageCache() throws Exception {
        LoopDevice loop = loop(LoopDevice.over(file("t.img", MIB)));
        BlockDiskResolver resolver = new BlockDiskResolver(new UringSupport.Unavailable("forced by the test"));
        Disk disk = BlockDisks.resolve(resolver, dir, Map.of("path", loop.path().toString()), false);
        disks.add(disk);
        String inspect = InspectTree.of(disk).toString();
        assertTrue(inspect.contains("engine: threads"), inspect);
        write(disk, pattern(8192, 4), 8, true);
        assertArrayEquals(pattern(8192, 4).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), read(disk, 8, 8192));
        ResolveException refused = assertThrows(ResolveException.class, () -> BlockDisks.resolve(resolver, dir,
                Map.of("path", loop.path().toString(), "engine", "uring"), false));
        assertTrue(refused.getMessage().contains("forced by the test"), refused.getMessage());
        ResolveException noDirect = assertThrows(ResolveException.class, () -> BlockDisks.resolve(resolver, dir,
                Map.of("path", loop.path().toString(), "direct", true), false));
        assertTrue(noDirect.getMessage().contains("direct"), noDirect.getMessage());
    }

    @Test
    void badSettingsNameTheDiskTheKindAndTheSetting() throws Exception {
        for (Map<String, Object> bad : List.<Map<String, Object>>of(
                Map.of(),
                Map.of("path", "/dev/null-nothing-here"),
                Map.of("path", dir.toString()),
                Map.of("path", "/dev/null"),
                Map.of("path", "x.img", "engine", "fast"),
                Map.of("path", "x.img", "resizePoll", "1us"),
                Map.of("path", "x.img", "sectorSize", 4096))) {
            ResolveException e = assertThrows(ResolveException.class, () -> open(bad), bad.toString());
            assertTrue(e.getMessage().contains("test") && e.getMessage().contains("block"), e.getMessage());
        }
        Path file = file("excl.img", MIB);
        ResolveException e = assertThrows(ResolveException.class,
                () -> open(Map.of("path", file.toString(), "exclusive", true)));
        assertTrue(e.getMessage().contains("exclusive"), e.getMessage());
    }
}
