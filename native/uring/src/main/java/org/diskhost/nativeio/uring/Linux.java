package org.diskhost.nativeio.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.diskhost.nativeio.libc.Downcalls;
import org.diskhost.nativeio.libc.Libc;

/**
 * The libc calls of this package (io_uring's syscalls, mmap, eventfd), bound through FFM ({@link Downcalls}): the one
 * class here that binds native functions. Calls that can fail return the kernel's convention, the result or
 * {@code -errno}, read from a call-state segment the caller owns ({@link Libc#callState}) so that the ring thread
 * allocates nothing per call. Descriptors are opened and closed with {@link Libc#open} and {@link Libc#close}.
 */
final class Linux {
    /** The syscall numbers of x86_64 and aarch64 alike, the two platforms {@link Libc#unavailable()} admits. */
    static final int SYS_IO_URING_SETUP = 425;
    static final int SYS_IO_URING_ENTER = 426;
    static final int SYS_IO_URING_REGISTER = 427;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_SHARED = 0x1;
    private static final int MAP_POPULATE = 0x8000;

    private static final ValueLayout I32 = ValueLayout.JAVA_INT;
    private static final ValueLayout I64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final Downcalls DOWNCALLS = new Downcalls();
    // syscall(2) is variadic: pass every argument as a long (a register each), never a narrower int.
    private static final MethodHandle SETUP = DOWNCALLS.capturingErrno("syscall",
            FunctionDescriptor.of(I64, I64, I64, PTR), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle ENTER = DOWNCALLS.capturingErrno("syscall",
            FunctionDescriptor.of(I64, I64, I64, I64, I64, I64, PTR, I64), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle REGISTER = DOWNCALLS.capturingErrno("syscall",
            FunctionDescriptor.of(I64, I64, I64, I64, PTR, I64), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle MMAP = DOWNCALLS.capturingErrno("mmap",
            FunctionDescriptor.of(PTR, PTR, I64, I32, I32, I32, I64));
    private static final MethodHandle MUNMAP = DOWNCALLS.plain("munmap", FunctionDescriptor.of(I32, PTR, I64));
    private static final MethodHandle LSEEK = DOWNCALLS.capturingErrno("lseek",
            FunctionDescriptor.of(I64, I32, I64, I32));
    /**
     * Why the functions could not be bound (another platform, no native access: {@link Libc#unavailable()}), or null
     * when they are; after the handles, which it reports on.
     */
    static final String UNBOUND = DOWNCALLS.failure().orElse(null);

    private Linux() {
    }

    /** {@code io_uring_setup(entries, params)}: the ring's descriptor or -errno. */
    static int ioUringSetup(MemorySegment state, int entries, MemorySegment params) {
        return (int) Libc.result(state, () -> (long) SETUP.invokeExact(state, (long) SYS_IO_URING_SETUP,
                (long) entries, params));
    }

    /** {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}: SQEs consumed, or -errno. */
    static int ioUringEnter(MemorySegment state, int fd, int toSubmit, int minComplete, int flags) {
        long rc; // no lambda: this is the ring thread's hot path
        try {
            rc = (long) ENTER.invokeExact(state, (long) SYS_IO_URING_ENTER, (long) fd, (long) toSubmit,
                    (long) minComplete, (long) flags, MemorySegment.NULL, 0L);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return rc < 0 ? -Libc.errno(state) : (int) rc;
    }

    /** {@code io_uring_register(fd, opcode, arg, count)}: 0 or more, or -errno. */
    static int ioUringRegister(MemorySegment state, int fd, int opcode, MemorySegment arg, int count) {
        return (int) Libc.result(state, () -> (long) REGISTER.invokeExact(state, (long) SYS_IO_URING_REGISTER,
                (long) fd, (long) opcode, arg, (long) count));
    }

    /** Maps {@code size} bytes of {@code fd} at {@code offset}, shared and read-write. */
    @SuppressWarnings("restricted") // reinterpret: the kernel has just mapped exactly these bytes
    static MemorySegment mmap(MemorySegment state, long size, int fd, long offset) throws UringException {
        MemorySegment at;
        try {
            at = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, size, PROT_READ_WRITE,
                    MAP_SHARED | MAP_POPULATE, fd, offset);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (at.address() == -1L) { // MAP_FAILED
            throw new UringException("mmap of " + size + " bytes at " + offset, Libc.errno(state));
        }
        return at.reinterpret(size);
    }

    static void munmap(MemorySegment mapping) {
        try {
            int rc = (int) MUNMAP.invokeExact(mapping, mapping.byteSize());
            assert rc == 0 : "munmap of a mapping this package made";
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** {@code lseek(fd, offset, whence)}: the new offset or -errno (-ENXIO past the last data or hole). */
    static long lseek(int fd, long offset, int whence) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            return Libc.result(state, () -> (long) LSEEK.invokeExact(state, fd, offset, whence));
        }
    }
}
