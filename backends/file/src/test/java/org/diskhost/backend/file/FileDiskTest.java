package org.diskhost.backend.file;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.GuestMemory;
import org.diskhost.api.buffers.PagedRange;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.nativeio.uring.Uring;
import org.diskhost.nativeio.uring.UringSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FileDiskTest {
    @TempDir
    Path dir;

    private Disk open(Map<String, Object> settings) {
        return FileDisks.resolve(dir, settings, false);
    }

    /** {@code settings} on {@code engine}: the native engines continue short transfers and punch holes each. */
    private Disk open(String engine, Map<String, Object> settings) {
        if (engine.equals("uring")) {
            FileDisks.assumeUring();
        }
        Map<String, Object> withEngine = new HashMap<>(settings);
        withEngine.put("engine", engine);
        return open(withEngine);
    }

    private ResolveError resolveError(Map<String, Object> settings) {
        CompletionException e = assertThrows(CompletionException.class,
                () -> FileDisks.resolve(dir, settings, false));
        return assertInstanceOf(ResolveException.class, e.getCause()).error();
    }

    /** Blocks allocated to the file, in 512-byte units, as stat reports them. */
    private static long allocatedBlocks(Path file) throws Exception {
        Process stat = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
        String out = new String(stat.getInputStream().readAllBytes()).trim();
        assertEquals(0, stat.waitFor());
        return Long.parseLong(out);
    }

    @Test
    void createMakesASparseFileOfTheGivenSize() throws Exception {
        Disk disk = open(Map.of("path", "sub/dir/new.img", "create", "64 MiB"));
        Path file = dir.resolve("sub/dir/new.img");
        assertEquals(64L << 20, Files.size(file));
        assertTrue(allocatedBlocks(file) < 64, "the new file is sparse");
        assertEquals((64L << 20) / 512, disk.sectorCount());
        disk.close();
    }

    @Test
    void anExistingFileIsKeptAsItIs() throws Exception {
        Path file = dir.resolve("keep.img");
        byte[] content = new byte[8192];
        pattern(MemorySegment.ofArray(content), 3);
        Files.write(file, content);
        Disk disk = open(Map.of("path", "keep.img", "create", "1 MiB"));
        assertEquals(16, disk.sectorCount());
        assertSameBytes(MemorySegment.ofArray(content), read(disk, 0, 16), "existing content");
        disk.close();
    }

    @Test
    void writesLandInTheFileAtTheirOffset() throws Exception {
        Disk disk = open(Map.of("path", "w.img", "create", "1 MiB", "sectorSize", 4096));
        MemorySegment data = pattern(2 * 4096, 11);
        write(disk, 5, data);
        succeeds(disk.syncCache());
        byte[] file = Files.readAllBytes(dir.resolve("w.img"));
        assertSameBytes(data, MemorySegment.ofArray(file).asSlice(5 * 4096, 2 * 4096), "file content");
        assertTrue(isZero(MemorySegment.ofArray(file).asSlice(0, 5 * 4096)));
        disk.close();
    }

    @Test
    void aTrailingPartialSectorIsNotPartOfTheDisk() throws Exception {
        Files.write(dir.resolve("odd.img"), new byte[10 * 512 + 100]);
        Disk disk = open(Map.of("path", "odd.img"));
        assertEquals(10, disk.sectorCount());
        failsWith(DiskError.IllegalBlock.class, disk.readVectored(RequestBuffers.of(allocate(512), true), 10));
        disk.close();
        assertEquals(10 * 512 + 100, Files.size(dir.resolve("odd.img")), "writes never change the file size");
    }

    /** The reference's block-device test: unmap punches a hole, zeroing the first 4 KiB and keeping the next. */
    @ParameterizedTest
    @ValueSource(strings = {"uring", "threads"})
    void unmapPunchesAHole(String engine) throws Exception {
        Disk disk = open(engine, Map.of("path", "hole.img", "create", "1 MiB"));
        assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
        MemorySegment data = pattern(64 * 1024, 5);
        write(disk, 0, data);
        succeeds(disk.syncCache());
        long before = allocatedBlocks(dir.resolve("hole.img"));
        succeeds(disk.unmap(0, 8, false));
        assertTrue(isZero(read(disk, 0, 8)), "the first 4 KiB read as zeros");
        assertSameBytes(data.asSlice(4096, 4096), read(disk, 8, 8), "the next 4 KiB are intact");
        succeeds(disk.unmap(16, 64, false));
        assertTrue(allocatedBlocks(dir.resolve("hole.img")) < before, "the file has fewer blocks after unmap");
        assertEquals(1L << 20, Files.size(dir.resolve("hole.img")), "unmap keeps the size");
        failsWith(DiskError.IllegalBlock.class, disk.unmap(disk.sectorCount() - 1, 2, false));
        disk.close();
    }

    /** Holes map as HOLE, written data as DATA, in the file system's block granularity; the channel engine says DATA. */
    @Test
    void allocationFollowsTheFilesHoles() {
        Disk disk = open(Map.of("path", "map.img", "create", "1 MiB"));
        long sectors = disk.sectorCount();
        assertEquals(List.of(new AllocationExtent(sectors, Allocation.HOLE)), succeeds(disk.allocation(0, sectors)));
        write(disk, 64, pattern(64 * 1024, 9)); // sectors 64..191
        succeeds(disk.syncCache());
        assertEquals(List.of(new AllocationExtent(64, Allocation.HOLE), new AllocationExtent(128, Allocation.DATA),
                new AllocationExtent(sectors - 192, Allocation.HOLE)), succeeds(disk.allocation(0, sectors)));
        assertEquals(List.of(new AllocationExtent(8, Allocation.DATA), new AllocationExtent(4, Allocation.HOLE)),
                succeeds(disk.allocation(184, 12)), "a range that starts inside data");
        succeeds(disk.unmap(64, 64, false));
        assertEquals(List.of(new AllocationExtent(128, Allocation.HOLE), new AllocationExtent(64, Allocation.DATA)),
                succeeds(disk.allocation(0, 192)));
        failsWith(DiskError.IllegalBlock.class, disk.allocation(sectors - 1, 2));
        disk.close();

        Disk channel = open(Map.of("path", "map.img", "engine", "channel"));
        assertEquals(List.of(new AllocationExtent(16, Allocation.DATA)), succeeds(channel.allocation(0, 16)));
        channel.close();
    }

    @Test
    void withoutHolePunchingUnmapIsIgnored() {
        Disk disk = open(Map.of("path", "ch.img", "create", "1 MiB", "engine", "channel"));
        assertEquals(UnmapBehavior.IGNORED, disk.unmapBehavior());
        disk.close();
    }

    @Test
    void readOnlyIsEnforcedAndTheFileUntouched() throws Exception {
        Path file = dir.resolve("ro.img");
        byte[] content = new byte[4096];
        pattern(MemorySegment.ofArray(content), 1);
        Files.write(file, content);
        Disk disk = FileDisks.resolve(dir, Map.of("path", "ro.img"), true);
        assertTrue(disk.isReadOnly(), "the context's read-only flag applies");
        failsWith(DiskError.ReadOnly.class, disk.writeVectored(RequestBuffers.of(allocate(512), false), 0, false));
        failsWith(DiskError.ReadOnly.class, disk.unmap(0, 1, false));
        // Straight to the backend, bypassing Disk: the backend refuses too.
        failsWith(DiskError.ReadOnly.class,
                disk.backend().writeVectored(RequestBuffers.of(allocate(512), false), 0, false));
        succeeds(disk.syncCache());
        disk.close();
        assertSameBytes(MemorySegment.ofArray(content), MemorySegment.ofArray(Files.readAllBytes(file)), "file");
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "threads"})
    void moreSegmentsThanOneVectoredCallTakesStillRoundTrip(String engine) {
        Disk disk = open(engine, Map.of("path", "iov.img", "create", "16 MiB"));
        int pages = 2 * 1024 + 7; // beyond IOV_MAX: several preadv/pwritev2 calls per request
        GuestMemory memory = GuestMemory.of(allocate(2L * pages * GuestMemory.PAGE_SIZE));
        long[] scattered = new long[pages];
        for (int i = 0; i < pages; i++) {
            scattered[i] = 2L * i; // every other page: nothing merges
        }
        PagedRange range = PagedRange.ofPages(scattered);
        byte[] data = new byte[pages * GuestMemory.PAGE_SIZE];
        pattern(MemorySegment.ofArray(data), 77);
        new RequestBuffers(memory, range, true).writer().write(data, 0, data.length);
        succeeds(disk.writeVectored(new RequestBuffers(memory, range, false), 3, true));
        assertSameBytes(MemorySegment.ofArray(data), read(disk, 3, data.length / 512), "written scattered");
        RequestBuffers into = new RequestBuffers(memory, range, true);
        into.writer().zero(data.length);
        succeeds(disk.readVectored(into, 3));
        assertSameBytes(MemorySegment.ofArray(data), MemorySegment.ofArray(into.reader().readAll()),
                "read scattered");
        disk.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "threads"})
    void aFileThatShrankUnderTheDiskGivesAnIoErrorNotZeros(String engine) throws Exception {
        Disk disk = open(engine, Map.of("path", "shrink.img", "create", "1 MiB"));
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("shrink.img").toFile(), "rw")) {
            file.setLength(4096);
        }
        DiskError error = failsWith(DiskError.Io.class,
                disk.readVectored(RequestBuffers.of(allocate(4096), true), 100));
        assertTrue(((DiskError.Io) error).cause().getMessage().contains("end of file"),
                ((DiskError.Io) error).cause().getMessage());
        disk.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "threads"})
    void closeFinishesQueuedRequestsFirst(String engine) {
        Disk disk = open(engine, Map.of("path", "close.img", "create", "4 MiB", "ioThreads", 2));
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            writes.add(disk.writeVectored(RequestBuffers.of(pattern(4096, i), false), i * 8L, false));
        }
        disk.close();
        writes.forEach(w -> succeeds(w));
        failsWith(DiskError.Io.class, disk.readVectored(RequestBuffers.of(allocate(512), true), 0));
    }

    @Test
    void inspectShowsThePathAndTheEngine() {
        Disk disk = open(Map.of("path", "i.img", "create", "1 MiB"));
        write(disk, 0, pattern(512, 1));
        InspectTree tree = InspectTree.of(disk);
        assertEquals("file", tree.get("disk_type"));
        assertEquals(dir.resolve("i.img").toString(), tree.get("path"));
        // The default: uring where the kernel offers it (CI machines do), threads elsewhere.
        boolean uring = Uring.probe() instanceof UringSupport.Available;
        assertEquals(uring ? "uring" : "threads", tree.get("engine"));
        assertTrue(((String) tree.get("io_uring")).startsWith("io_uring "), (String) tree.get("io_uring"));
        assertEquals(1L, tree.get("writes"));
        disk.close();
    }

    @Test
    void everyEngineCanBeAskedForAndNativeIsTheOldNameOfThreads() {
        FileDisks.assumeUring();
        for (String[] engine : new String[][] {{"uring", "uring"}, {"threads", "threads"}, {"native", "threads"},
                {"channel", "channel"}}) {
            Disk disk = open(Map.of("path", "e.img", "create", "1 MiB", "engine", engine[0]));
            MemorySegment data = pattern(4096, engine[0].length());
            succeeds(disk.writeVectored(RequestBuffers.of(data, false), 8, true));
            assertSameBytes(data, read(disk, 8, 8), engine[0]);
            assertEquals(engine[1], InspectTree.of(disk).get("engine"), engine[0]);
            disk.close();
        }
    }

    /**
     * With the uring engine and the page cache, a small read of cached data is a copy on the caller's thread
     * (preadv2 with RWF_NOWAIT): inspect counts it, the data is right; larger reads and O_DIRECT reads use the ring.
     */
    @Test
    void smallReadsOfCachedDataAreServedOnTheCallersThread() throws Exception {
        FileDisks.assumeUring();
        Disk disk = FileDisks.resolve(dir, Map.of("path", "cached.img", "create", "4 MiB"), false);
        try {
            MemorySegment data = pattern(64 * 1024, 11);
            write(disk, 128, data);
            assertSameBytes(data, read(disk, 128, 128), "64 KiB, just written: in the page cache");
            assertTrue(InspectTree.of(disk).toString().contains("cached_reads: 1"), InspectTree.of(disk).toString());
            assertSameBytes(pattern(4096, 11), read(disk, 128, 8), "4 KiB of it");
            read(disk, 0, 256); // 128 KiB: above the limit, through the ring
            assertTrue(InspectTree.of(disk).toString().contains("cached_reads: 2"), InspectTree.of(disk).toString());
        } finally {
            disk.close();
        }
        Disk direct = FileDisks.resolve(dir, Map.of("path", "direct-cached.img", "create", "1 MiB", "direct", true),
                false);
        try {
            read(direct, 0, 8);
            assertTrue(InspectTree.of(direct).toString().contains("cached_reads: 0"),
                    InspectTree.of(direct).toString());
        } finally {
            direct.close();
        }
    }

    /**
     * With the uring engine and the page cache, a whole-page write of at most 64 KiB runs on the caller's thread
     * while dirty pages are low (true on a test machine): the future is complete on return and the data is there. FUA
     * writes, partial pages and O_DIRECT disks go to the I/O threads or the ring.
     */
    @Test
    void smallWholePageWritesRunOnTheCallersThread() throws Exception {
        FileDisks.assumeUring();
        Assumptions.assumeTrue(InlineWrites.procVmstatBelowBackground(), "dirty pages above the background threshold");
        Disk disk = FileDisks.resolve(dir, Map.of("path", "inline.img", "create", "4 MiB"), false);
        try {
            MemorySegment data = pattern(4096, 5);
            assertTrue(disk.writeVectored(RequestBuffers.of(data, false), 64, false).isDone(), "done on return");
            assertSameBytes(data, read(disk, 64, 8), "written inline");
            succeeds(disk.writeVectored(RequestBuffers.of(pattern(4096, 6), false), 72, true)); // FUA
            succeeds(disk.writeVectored(RequestBuffers.of(pattern(512, 7), false), 81, false)); // part of a page
            succeeds(disk.writeVectored(RequestBuffers.of(pattern(128 * 1024, 8), false), 512, false)); // too large
            String tree = InspectTree.of(disk).toString();
            assertTrue(tree.contains("inline_writes: 1") && tree.contains("writes: 4"), tree);
        } finally {
            disk.close();
        }
        Disk direct = FileDisks.resolve(dir, Map.of("path", "direct-inline.img", "create", "1 MiB", "direct", true),
                false);
        try {
            succeeds(direct.writeVectored(RequestBuffers.of(pattern(4096, 9), false), 0, false));
            assertTrue(InspectTree.of(direct).toString().contains("inline_writes: 0"),
                    InspectTree.of(direct).toString());
        } finally {
            direct.close();
        }
    }

    /** io_uring forced off (as seccomp, io_uring_disabled or an old kernel would): the disk uses threads, says why. */
    @Test
    void withoutIoUringTheDefaultFallsBackToThreadsAndSaysWhy() throws Exception {
        List<LogRecord> logged = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(FileDiskResolver.class.getName());
        logger.addHandler(handler);
        String before = System.getProperty(UringSupport.PROPERTY);
        FileDiskResolver resolver;
        try {
            System.setProperty(UringSupport.PROPERTY, "off");
            resolver = new FileDiskResolver(); // probes now, as the bundle does when it starts
        } finally {
            if (before == null) {
                System.clearProperty(UringSupport.PROPERTY);
            } else {
                System.setProperty(UringSupport.PROPERTY, before);
            }
        }
        try {
            Disk first = FileDisks.resolveAsync(resolver, dir, Map.of("path", "a.img", "create", "1 MiB"), false)
                    .join();
            Disk second = FileDisks.resolveAsync(resolver, dir, Map.of("path", "b.img", "create", "1 MiB"), false)
                    .join();
            MemorySegment data = pattern(4096, 3);
            succeeds(first.writeVectored(RequestBuffers.of(data, false), 0, true));
            assertSameBytes(data, read(first, 0, 8), "written by the threads engine");
            InspectTree tree = InspectTree.of(first);
            assertEquals("threads", tree.get("engine"));
            assertEquals("io_uring unavailable: disabled by the system property diskhost.uring=off",
                    tree.get("io_uring"));
            first.close();
            second.close();
            assertEquals(1, logged.size(), "the fallback is logged once, not per disk");
            assertEquals("file disks use the threads engine, not uring: io_uring unavailable: disabled by the system "
                    + "property diskhost.uring=off", logged.get(0).getMessage());
        } finally {
            logger.removeHandler(handler);
        }

        CompletionException e = assertThrows(CompletionException.class, () -> FileDisks.resolveAsync(resolver, dir,
                Map.of("path", "c.img", "create", "1 MiB", "engine", "uring"), false).join());
        ResolveError error = assertInstanceOf(ResolveException.class, e.getCause()).error();
        assertEquals("disk 'test', kind 'file', setting 'engine': the uring engine is not available here: disabled "
                + "by the system property diskhost.uring=off", error.message());
        assertTrue(Files.notExists(dir.resolve("c.img")), "nothing is created for a disk that fails to resolve");
    }

    @ParameterizedTest
    @ValueSource(strings = {"uring", "threads"})
    void heapBuffersAreBouncedForDirectIo(String engine) {
        Disk disk = open(engine, Map.of("path", "dh.img", "create", "1 MiB", "direct", true));
        byte[] data = new byte[4096];
        pattern(MemorySegment.ofArray(data), 8);
        succeeds(disk.writeVectored(RequestBuffers.of(MemorySegment.ofArray(data), false), 1, false));
        assertSameBytes(MemorySegment.ofArray(data), read(disk, 1, 8), "direct write from the heap");
        assertEquals(1L, InspectTree.of(disk).get("bounced_requests"));
        disk.close();
    }

    // ---- configuration errors name the disk, the kind and the setting ----

    @Test
    void aMissingFileWithoutCreateIsAResolverError() {
        ResolveError error = resolveError(Map.of("path", "nope.img"));
        assertInstanceOf(ResolveError.ResolverError.class, error);
        assertTrue(error.message().startsWith("disk 'test', kind 'file': no such file"), error.message());
        assertTrue(error.message().contains("create"), error.message());
    }

    @Test
    void badSettingsAreParseErrorsNamingTheSetting() {
        assertEquals("sectorSize", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "create", "1M", "sectorSize", 1000))).setting());
        assertEquals("create", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "create", "1000"))).setting());
        assertEquals("create", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "create", "big"))).setting());
        assertEquals("path", ((ResolveError.ParseError) resolveError(Map.of("create", "1M"))).setting());
        assertEquals("pth", ((ResolveError.ParseError) resolveError(Map.of("pth", "a.img"))).setting());
        assertEquals("engine", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "engine", "turbo"))).setting());
        assertEquals("direct", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "direct", true, "engine", "channel"))).setting());
        assertEquals("ioThreads", ((ResolveError.ParseError) resolveError(
                Map.of("path", "a.img", "ioThreads", 0))).setting());
    }

    @Test
    void aDirectoryOrATinyFileIsRefused() throws IOException {
        Files.createDirectory(dir.resolve("adir"));
        assertTrue(resolveError(Map.of("path", "adir")).message().contains("not a regular file"));
        Files.write(dir.resolve("tiny.img"), new byte[100]);
        assertTrue(resolveError(Map.of("path", "tiny.img")).message().contains("smaller than one"));
    }

    @Test
    void fuaWritesAreDurableWritesThroughRwfDsync() {
        Disk disk = open(Map.of("path", "fua.img", "create", "1 MiB"));
        assertTrue(disk.isFuaRespected());
        MemorySegment data = pattern(8192, 12);
        succeeds(disk.writeVectored(RequestBuffers.of(data, false), 0, true));
        assertSameBytes(data, read(disk, 0, 16), "FUA data");
        assertEquals(data.get(ValueLayout.JAVA_BYTE, 0), read(disk, 0, 1).get(ValueLayout.JAVA_BYTE, 0));
        disk.close();
    }
}
