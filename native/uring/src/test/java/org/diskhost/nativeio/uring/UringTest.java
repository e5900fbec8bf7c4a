package org.diskhost.nativeio.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each operation of a ring against a real file. */
class UringTest {
    @TempDir
    Path dir;
    private Uring ring;
    private Arena arena;
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        ring = UringTests.available().open("test", 16);
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() throws IOException {
        ring.close();
        for (int fd : fds) {
            Libc.close(fd);
        }
        arena.close();
    }

    private int openFile(Path file, int flags) throws IOException {
        int fd = Libc.open(file.toString(), flags);
        fds.add(fd);
        return fd;
    }

    private Path file(String name, long size) throws IOException {
        Path file = dir.resolve(name);
        try (var raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
        return file;
    }

    private MemorySegment filled(long size, long alignment, int seed) {
        MemorySegment s = arena.allocate(size, alignment);
        for (long i = 0; i < size; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i * 7));
        }
        return s;
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    private static byte[] concat(List<MemorySegment> segments) {
        var out = new java.io.ByteArrayOutputStream();
        segments.forEach(s -> out.writeBytes(s.toArray(ValueLayout.JAVA_BYTE)));
        return out.toByteArray();
    }

    @Test
    void scatteredWriteThenGatheredRead() throws Exception {
        Path file = file("scattered", 64 * 1024);
        int fd = openFile(file, Libc.O_RDWR);
        List<MemorySegment> out = List.of(filled(512, 1, 1), filled(1000, 1, 2), filled(3000, 1, 3), filled(7, 1, 4));
        byte[] expected = concat(out);
        assertEquals(expected.length, get(ring.writev(fd, out, 12345, false)));

        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(expected, Arrays.copyOfRange(onDisk, 12345, 12345 + expected.length));
        assertEquals(0, onDisk[12344]);

        List<MemorySegment> in = List.of(arena.allocate(4000), arena.allocate(519));
        assertEquals(expected.length, get(ring.readv(fd, in, 12345)));
        assertArrayEquals(expected, concat(in));
    }

    @Test
    void directIoWithAlignedBuffers() throws Exception {
        Path file = file("direct", 1024 * 1024);
        int fd = openFile(file, Libc.O_RDWR | Libc.O_DIRECT);
        List<MemorySegment> out = List.of(filled(4096, 4096, 5), filled(8192, 4096, 6), filled(4096, 4096, 7));
        byte[] expected = concat(out);
        assertEquals(16384, get(ring.writev(fd, out, 8192, true)));

        List<MemorySegment> in = List.of(arena.allocate(12288, 4096), arena.allocate(4096, 4096));
        assertEquals(16384, get(ring.readv(fd, in, 8192)));
        assertArrayEquals(expected, concat(in));
        assertArrayEquals(expected, Arrays.copyOfRange(Files.readAllBytes(file), 8192, 8192 + 16384));

        // O_DIRECT refuses misaligned memory (over written blocks: a hole reads as zeros without the check): the
        // kernel's EINVAL reaches the caller.
        MemorySegment misaligned = arena.allocate(4096 + 1, 4096).asSlice(1);
        var e = assertThrows(ExecutionException.class, () -> get(ring.readv(fd, List.of(misaligned), 8192)));
        assertEquals(Errno.EINVAL, assertInstanceOf(UringException.class, e.getCause()).errno());
    }

    @Test
    void dsyncWritesAndSyncs() throws Exception {
        Path file = file("sync", 8192);
        int fd = openFile(file, Libc.O_RDWR);
        MemorySegment data = filled(4096, 8, 9);
        assertEquals(4096, get(ring.writev(fd, List.of(data), 4096, true)));
        assertEquals(0, get(ring.fsync(fd, true)));
        assertEquals(0, get(ring.fsync(fd, false)));
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE),
                Arrays.copyOfRange(Files.readAllBytes(file), 4096, 8192));
    }

    @Test
    void moreBuffersThanKeptInline() throws Exception {
        Path file = file("many", 64 * 1024);
        int fd = openFile(file, Libc.O_RDWR);
        List<MemorySegment> out = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            out.add(filled(100 + i, 1, i));
        }
        byte[] expected = concat(out);
        assertEquals(expected.length, get(ring.writev(fd, out, 0, false)));
        assertArrayEquals(expected, Arrays.copyOf(Files.readAllBytes(file), expected.length));

        List<MemorySegment> tooMany = new ArrayList<>();
        for (int i = 0; i <= Uring.MAX_IOVECS; i++) {
            tooMany.add(out.get(0));
        }
        assertThrows(IllegalArgumentException.class, () -> ring.writev(fd, tooMany, 0, false));
        assertThrows(IllegalArgumentException.class, () -> ring.readv(fd, List.of(), 0));
        assertThrows(IllegalArgumentException.class,
                () -> ring.readv(fd, List.of(MemorySegment.ofArray(new byte[16])), 0));
        assertThrows(IllegalArgumentException.class, () -> ring.readv(fd, List.of(out.get(0)), -1));
    }

    @Test
    void readsShortAtTheEndOfTheFile() throws Exception {
        Path file = file("short", 1000);
        int fd = openFile(file, Libc.O_RDONLY);
        assertEquals(1000, get(ring.readv(fd, List.of(arena.allocate(4096)), 0)));
        assertEquals(0, get(ring.readv(fd, List.of(arena.allocate(4096)), 1000)));
    }

    @Test
    void punchHoleKeepsTheSize() throws Exception {
        int mib = 1024 * 1024;
        Path file = dir.resolve("holes");
        Files.createFile(file);
        int fd = openFile(file, Libc.O_RDWR);
        // fallocate mode 0 allocates and extends.
        assertEquals(0, get(ring.fallocate(fd, 0, 0, mib)));
        assertEquals(mib, Files.size(file));
        MemorySegment data = filled(mib, 4096, 11);
        assertEquals(mib, get(ring.writev(fd, List.of(data), 0, false)));
        assertEquals(0, get(ring.fsync(fd, false)));

        assertEquals(0, get(ring.fallocate(fd, Uring.FALLOC_FL_PUNCH_HOLE | Uring.FALLOC_FL_KEEP_SIZE,
                256 * 1024, 256 * 1024)));
        assertEquals(mib, Files.size(file));
        assertEquals(256 * 1024, Linux.lseek(fd, 0, Linux.SEEK_HOLE));
        assertEquals(512 * 1024, Linux.lseek(fd, 256 * 1024, Linux.SEEK_DATA));
        MemorySegment back = arena.allocate(mib, 4096);
        assertEquals(mib, get(ring.readv(fd, List.of(back), 0)));
        for (long i = 0; i < mib; i++) {
            byte want = i >= 256 * 1024 && i < 512 * 1024 ? 0 : data.get(ValueLayout.JAVA_BYTE, i);
            if (back.get(ValueLayout.JAVA_BYTE, i) != want) {
                throw new AssertionError("byte " + i);
            }
        }
    }

    @Test
    void errnoReachesTheCaller() throws Exception {
        MemorySegment buffer = arena.allocate(512);
        var badFd = assertThrows(ExecutionException.class, () -> get(ring.readv(1 << 20, List.of(buffer), 0)));
        UringException e = assertInstanceOf(UringException.class, badFd.getCause());
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("readv fd 1048576 at 0: Bad file descriptor (errno 9)", e.getMessage());

        int readOnly = openFile(file("ro", 4096), Libc.O_RDONLY);
        var write = assertThrows(ExecutionException.class,
                () -> get(ring.writev(readOnly, List.of(buffer), 0, false)));
        assertEquals(Errno.EBADF, assertInstanceOf(UringException.class, write.getCause()).errno());
        var punch = assertThrows(ExecutionException.class,
                () -> get(ring.fallocate(readOnly, Uring.FALLOC_FL_PUNCH_HOLE | Uring.FALLOC_FL_KEEP_SIZE, 0, 512)));
        assertEquals(Errno.EBADF, assertInstanceOf(UringException.class, punch.getCause()).errno());

        // The ring carries on after failures.
        assertEquals(0, get(ring.nop()));
    }

    @Test
    void aNopIsARoundTrip() throws Exception {
        assertEquals(15, ring.capacity()); // 16 entries, one kept for wake-ups
        for (int i = 0; i < 100; i++) {
            assertEquals(0, get(ring.nop()));
        }
        assertTrue(ring.toString().contains("test"));
    }
}
