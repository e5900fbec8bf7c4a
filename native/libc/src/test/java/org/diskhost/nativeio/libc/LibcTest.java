package org.diskhost.nativeio.libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The plumbing on real files and descriptors. */
class LibcTest {
    @TempDir
    Path dir;

    @BeforeEach
    void nativeCalls() {
        // Skipped where native calls cannot be made, except under CI=true: there it fails.
        Libc.unavailable().ifPresent(why -> {
            if (System.getenv("CI") != null) {
                fail(why);
            }
            Assumptions.abort(why);
        });
    }

    @Test
    void openMissingPathIsEnoent() {
        Path missing = dir.resolve("missing");
        ErrnoException e = assertErrno(Errno.ENOENT, () -> Libc.open(missing.toString(), Libc.O_RDONLY));
        assertEquals("open " + missing + ": No such file or directory (errno 2)", e.getMessage());
    }

    @Test
    void closedDescriptorIsEbadf() throws IOException {
        int fd = Libc.open(Files.createFile(dir.resolve("f")).toString(), Libc.O_RDONLY);
        Libc.close(fd);
        // The descriptor is closed now (no other thread of this test opens files): closing again fails.
        ErrnoException e = assertErrno(Errno.EBADF, () -> Libc.close(fd));
        assertEquals("close fd " + fd + ": Bad file descriptor (errno 9)", e.getMessage());
    }

    @Test
    void openCreatesWithModeAndExclusively() throws IOException {
        Path file = dir.resolve("new");
        int fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL, 0600);
        Libc.close(fd);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertErrno(Errno.EEXIST, () -> Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL, 0600));
    }

    @Test
    void openIsCloseOnExec() throws IOException {
        Path file = Files.createFile(dir.resolve("f"));
        int fd = Libc.open(file.toString(), Libc.O_RDONLY);
        try {
            // /proc/self/fdinfo shows the flags the descriptor was opened with (octal); O_CLOEXEC is 02000000.
            String info = Files.readString(Path.of("/proc/self/fdinfo/" + fd));
            String flags = info.lines().filter(l -> l.startsWith("flags:")).findFirst().orElseThrow();
            long octal = Long.parseLong(flags.substring("flags:".length()).strip(), 8);
            assertTrue((octal & 02000000) != 0, info);
            assertEquals(02000000, Libc.O_CLOEXEC);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void errnoIsCapturedPerCallState() throws Throwable {
        Downcalls downcalls = new Downcalls();
        MethodHandle dup = downcalls.capturingErrno("dup",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        assertEquals(Optional.empty(), downcalls.failure());
        int fd = Libc.open(Files.createFile(dir.resolve("f")).toString(), Libc.O_RDONLY);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment failed = Libc.callState(arena);
            MemorySegment succeeded = Libc.callState(arena);
            assertEquals(-Errno.EBADF, Libc.result(failed, () -> (int) dup.invokeExact(failed, -1)));
            int copy = (int) Libc.retried(succeeded, () -> (int) dup.invokeExact(succeeded, fd));
            assertTrue(copy >= 0 && copy != fd, "dup answered " + copy);
            Libc.close(copy);
            // The failed call's errno stays in its own segment, whatever ran since.
            assertEquals(Errno.EBADF, Libc.errno(failed));
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aMissingFunctionLeavesTheRestUnboundAndSaysWhy() {
        Downcalls downcalls = new Downcalls();
        FunctionDescriptor intOfInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
        assertNull(downcalls.plain("diskhost_no_such_function", intOfInt));
        assertNull(downcalls.capturingErrno("dup", intOfInt));
        String why = downcalls.failure().orElseThrow();
        assertTrue(why.startsWith("cannot bind diskhost_no_such_function (java.util.NoSuchElementException"), why);
    }

    @Test
    void strerrorText() {
        assertEquals("Device or resource busy", Errno.describe(Errno.EBUSY));
        assertEquals("Invalid exchange", Errno.describe(Errno.EBADE));
        assertEquals("Operation not supported", Errno.describe(Errno.EOPNOTSUPP));
        assertEquals("Unknown error 4242", Libc.strerror(4242));
        ErrnoException e = new ErrnoException("BLKDISCARD /dev/loop3", Errno.EROFS);
        assertEquals(Errno.EROFS, e.errno());
        assertEquals("BLKDISCARD /dev/loop3: Read-only file system (errno 30)", e.getMessage());
    }

    @Test
    void rethrowKeepsUncheckedAndWrapsChecked() {
        IllegalArgumentException unchecked = new IllegalArgumentException("x");
        assertEquals(unchecked, assertThrows(IllegalArgumentException.class, () -> Libc.rethrow(unchecked)));
        IOException checked = new IOException("y");
        assertEquals(checked, assertThrows(IllegalStateException.class, () -> Libc.rethrow(checked)).getCause());
    }

    @Test
    void errnoNumbersAreTheGenericOnes() {
        // asm-generic/errno-base.h and asm-generic/errno.h
        assertEquals(1, Errno.EPERM);
        assertEquals(4, Errno.EINTR);
        assertEquals(22, Errno.EINVAL);
        assertEquals(52, Errno.EBADE);
        assertEquals(95, Errno.EOPNOTSUPP);
        assertEquals(105, Errno.ENOBUFS);
        assertEquals(123, Errno.ENOMEDIUM);
        // asm-generic/fcntl.h (x86_64 and aarch64 share all but O_DIRECT)
        assertEquals(0100, Libc.O_CREAT);
        assertEquals(0200, Libc.O_EXCL);
        assertEquals(040000, Libc.oDirect("amd64"));
        assertEquals(0200000, Libc.oDirect("aarch64"));
        assertEquals(0, Libc.oDirect("riscv64"));
    }

    /** Asserts that {@code call} fails with {@code errno}; returns the exception. */
    static ErrnoException assertErrno(int errno, Executable call) {
        ErrnoException e = assertThrows(ErrnoException.class, call);
        assertEquals(errno, e.errno(), e::getMessage);
        return e;
    }
}
