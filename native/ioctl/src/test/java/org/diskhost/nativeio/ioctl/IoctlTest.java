package org.diskhost.nativeio.ioctl;

import static org.diskhost.nativeio.ioctl.IoctlTests.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Descriptors and raw calls on real files (no device needed). */
class IoctlTest {
    @TempDir
    Path dir;

    @BeforeEach
    void nativeCalls() {
        IoctlTests.requireNative();
    }

    @Test
    void badDescriptorIsEbadf() throws IOException {
        int fd = Ioctl.open(Files.createFile(dir.resolve("f")).toString(), Ioctl.O_RDONLY);
        Ioctl.close(fd);
        // The descriptor is closed now: every use of it fails (no other thread of this test opens files).
        assertErrno(Errnos.EBADF, () -> Ioctl.close(fd));
        assertErrno(Errnos.EBADF, () -> BlockIoctls.sizeBytes(fd));
        assertErrno(Errnos.EBADF, () -> Ioctl.call(-1, BlockIoctls.BLKROGET, 0L, "BLKROGET fd -1"));
    }

    @Test
    void blockRequestOnARegularFileIsEnotty() throws IOException {
        Path file = Files.write(dir.resolve("f"), new byte[4096]);
        int fd = Ioctl.open(file.toString(), Ioctl.O_RDWR);
        try {
            ErrnoException e = assertErrno(Errnos.ENOTTY, () -> BlockIoctls.sizeBytes(fd));
            assertEquals("BLKGETSIZE64 fd " + fd + ": Inappropriate ioctl for device (errno 25)", e.getMessage());
            assertErrno(Errnos.ENOTTY, () -> PrIoctls.register(fd, 0, 1, 0));
            assertErrno(Errnos.ENOTTY, () -> NvmePassthrough.namespaceId(fd));
        } finally {
            Ioctl.close(fd);
        }
    }

    @Test
    void pointerAndIntegerArguments() throws IOException {
        // FIONREAD (0x541B, int *): the bytes readable from a regular file's position, through the pointer handle;
        // FIOCLEX (0x5451, no argument) through the integer one.
        Path file = Files.write(dir.resolve("f"), new byte[1234]);
        int fd = Ioctl.open(file.toString(), Ioctl.O_RDONLY);
        try (Arena arena = Arena.ofConfined()) {
            var out = arena.allocate(ValueLayout.JAVA_INT);
            assertEquals(0, Ioctl.call(fd, 0x541B, out, "FIONREAD"));
            assertEquals(1234, out.get(ValueLayout.JAVA_INT, 0));
            assertEquals(0, Ioctl.call(fd, 0x5451, 0L, "FIOCLEX"));
        } finally {
            Ioctl.close(fd);
        }
    }

    @Test
    void errnosAreLibcsNumbers() {
        // The names this package's callers switch on, as libc's Errno defines them.
        assertEquals(Errno.EBADE, Errnos.EBADE);
        assertEquals(Errno.ENOMEDIUM, Errnos.ENOMEDIUM);
        assertEquals("Invalid exchange", Errnos.describe(Errnos.EBADE));
        assertEquals(Libc.O_DIRECT, Ioctl.O_DIRECT);
    }
}
