package org.diskhost.nativeio.ioctl;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * The Linux persistent-reservation ioctls of {@code linux/pr.h} (type 'p', numbers 200..205): SCSI-3 or NVMe
 * reservations through one interface, on any block device whose driver has {@code pr_ops} (SCSI disks, NVMe
 * namespaces, device-mapper multipath). Keys are the 64-bit reservation keys; {@code type} is {@code enum pr_type}
 * ({@link #PR_WRITE_EXCLUSIVE} .. {@link #PR_EXCLUSIVE_ACCESS_ALL_REGS}).
 *
 * <h2>Errors</h2>
 * Every call throws {@link ErrnoException}:
 * <ul>
 * <li>{@link Errno#EOPNOTSUPP}: the device has no reservation support (loop devices, for one), or a flag the kernel
 * does not accept ({@link #PR_FL_IGNORE_KEY} is the only one defined);</li>
 * <li>{@link Errno#EPERM}: on recent kernels, the descriptor is not open for writing and the caller lacks
 * {@code CAP_SYS_ADMIN};</li>
 * <li>{@link Errno#EBADE}: a reservation conflict. The kernel answers a conflict not with an errno but with the
 * positive status {@code PR_STS_RESERVATION_CONFLICT} (0x18, the SCSI status; older kernels passed NVMe's own
 * 0x83 through); both become EBADE, the errno Linux gives I/O that a reservation refuses, so a backend maps one errno
 * to "reservation conflict";</li>
 * <li>{@link Errno#EIO}: any other positive status (a device error or a failed path), its value in the message.</li>
 * </ul>
 *
 * <p>No device on the machines this project is tested on supports reservations: the tests check the numbers and
 * layouts against the header, and that a loop device refuses with EOPNOTSUPP.
 */
public final class PrIoctls {
    public static final int PR_WRITE_EXCLUSIVE = 1;
    public static final int PR_EXCLUSIVE_ACCESS = 2;
    public static final int PR_WRITE_EXCLUSIVE_REG_ONLY = 3;
    public static final int PR_EXCLUSIVE_ACCESS_REG_ONLY = 4;
    public static final int PR_WRITE_EXCLUSIVE_ALL_REGS = 5;
    public static final int PR_EXCLUSIVE_ACCESS_ALL_REGS = 6;

    /** Register: replace whatever key this initiator has (REGISTER AND IGNORE EXISTING KEY). */
    public static final int PR_FL_IGNORE_KEY = 1;

    /** {@code enum pr_status} values the kernel returns as a positive ioctl result. */
    public static final int PR_STS_IOERR = 0x2;
    public static final int PR_STS_RESERVATION_CONFLICT = 0x18;

    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;

    /** struct pr_registration (24 bytes). */
    public static final StructLayout PR_REGISTRATION = MemoryLayout.structLayout(
            U64.withName("old_key"), U64.withName("new_key"), U32.withName("flags"), U32.withName("__pad"))
            .withName("pr_registration");
    /** struct pr_reservation (16 bytes). */
    public static final StructLayout PR_RESERVATION = MemoryLayout.structLayout(
            U64.withName("key"), U32.withName("type"), U32.withName("flags")).withName("pr_reservation");
    /** struct pr_preempt (24 bytes). */
    public static final StructLayout PR_PREEMPT = MemoryLayout.structLayout(
            U64.withName("old_key"), U64.withName("new_key"), U32.withName("type"), U32.withName("flags"))
            .withName("pr_preempt");
    /** struct pr_clear (16 bytes). */
    public static final StructLayout PR_CLEAR = MemoryLayout.structLayout(
            U64.withName("key"), U32.withName("flags"), U32.withName("__pad")).withName("pr_clear");

    public static final long IOC_PR_REGISTER = IoctlRequest.iow('p', 200, PR_REGISTRATION.byteSize());
    public static final long IOC_PR_RESERVE = IoctlRequest.iow('p', 201, PR_RESERVATION.byteSize());
    public static final long IOC_PR_RELEASE = IoctlRequest.iow('p', 202, PR_RESERVATION.byteSize());
    public static final long IOC_PR_PREEMPT = IoctlRequest.iow('p', 203, PR_PREEMPT.byteSize());
    public static final long IOC_PR_PREEMPT_ABORT = IoctlRequest.iow('p', 204, PR_PREEMPT.byteSize());
    public static final long IOC_PR_CLEAR = IoctlRequest.iow('p', 205, PR_CLEAR.byteSize());

    private static final VarHandle REG_OLD_KEY = field(PR_REGISTRATION, "old_key");
    private static final VarHandle REG_NEW_KEY = field(PR_REGISTRATION, "new_key");
    private static final VarHandle REG_FLAGS = field(PR_REGISTRATION, "flags");
    private static final VarHandle RSV_KEY = field(PR_RESERVATION, "key");
    private static final VarHandle RSV_TYPE = field(PR_RESERVATION, "type");
    private static final VarHandle RSV_FLAGS = field(PR_RESERVATION, "flags");
    private static final VarHandle PRE_OLD_KEY = field(PR_PREEMPT, "old_key");
    private static final VarHandle PRE_NEW_KEY = field(PR_PREEMPT, "new_key");
    private static final VarHandle PRE_TYPE = field(PR_PREEMPT, "type");
    private static final VarHandle PRE_FLAGS = field(PR_PREEMPT, "flags");
    private static final VarHandle CLR_KEY = field(PR_CLEAR, "key");
    private static final VarHandle CLR_FLAGS = field(PR_CLEAR, "flags");

    private PrIoctls() {
    }

    /**
     * Registers {@code newKey} for this initiator, replacing {@code oldKey} (0 when none); {@code newKey} 0
     * unregisters. With {@link #PR_FL_IGNORE_KEY} the current key is replaced whatever it is.
     */
    public static void register(int fd, long oldKey, long newKey, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(PR_REGISTRATION);
            REG_OLD_KEY.set(arg, 0L, oldKey);
            REG_NEW_KEY.set(arg, 0L, newKey);
            REG_FLAGS.set(arg, 0L, flags);
            call(fd, IOC_PR_REGISTER, arg, "IOC_PR_REGISTER");
        }
    }

    /** Acquires a reservation of {@code type} (1..6) with this initiator's registered {@code key}. */
    public static void reserve(int fd, long key, int type, int flags) throws ErrnoException {
        reservation(fd, IOC_PR_RESERVE, "IOC_PR_RESERVE", key, type, flags);
    }

    /** Releases the reservation of {@code type} that this initiator holds with {@code key}. */
    public static void release(int fd, long key, int type, int flags) throws ErrnoException {
        reservation(fd, IOC_PR_RELEASE, "IOC_PR_RELEASE", key, type, flags);
    }

    /**
     * Preempts the registrations (and reservation) of {@code oldKey} with this initiator's {@code newKey}, taking a
     * reservation of {@code type}; with {@code abort}, the preempted initiators' outstanding commands are aborted
     * too (IOC_PR_PREEMPT_ABORT). {@code flags} must be 0.
     */
    public static void preempt(int fd, long oldKey, long newKey, int type, boolean abort, int flags)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(PR_PREEMPT);
            PRE_OLD_KEY.set(arg, 0L, oldKey);
            PRE_NEW_KEY.set(arg, 0L, newKey);
            PRE_TYPE.set(arg, 0L, type);
            PRE_FLAGS.set(arg, 0L, flags);
            call(fd, abort ? IOC_PR_PREEMPT_ABORT : IOC_PR_PREEMPT, arg,
                    abort ? "IOC_PR_PREEMPT_ABORT" : "IOC_PR_PREEMPT");
        }
    }

    /** Clears every registration and the reservation, with this initiator's {@code key}. {@code flags} must be 0. */
    public static void clear(int fd, long key, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(PR_CLEAR);
            CLR_KEY.set(arg, 0L, key);
            CLR_FLAGS.set(arg, 0L, flags);
            call(fd, IOC_PR_CLEAR, arg, "IOC_PR_CLEAR");
        }
    }

    /**
     * The errno a positive PR status stands for: {@link Errno#EBADE} for a reservation conflict, {@link Errno#EIO}
     * for anything else.
     */
    static int errnoOfStatus(int status) {
        // Older kernels passed NVMe's own Reservation Conflict status (SCT 0, SC 0x83) through unchanged.
        return status == PR_STS_RESERVATION_CONFLICT
                || (status & 0x7ff) == NvmePassthrough.NvmeStatusException.SC_RESERVATION_CONFLICT
                ? Errno.EBADE : Errno.EIO;
    }

    private static void reservation(int fd, long request, String name, long key, int type, int flags)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(PR_RESERVATION);
            RSV_KEY.set(arg, 0L, key);
            RSV_TYPE.set(arg, 0L, type);
            RSV_FLAGS.set(arg, 0L, flags);
            call(fd, request, arg, name);
        }
    }

    private static void call(int fd, long request, MemorySegment arg, String name) throws ErrnoException {
        String what = name + " fd " + fd;
        int status = Ioctl.call(fd, request, arg, what);
        if (status != 0) {
            throw new ErrnoException(what + " (device status 0x" + Integer.toHexString(status) + ")",
                    errnoOfStatus(status));
        }
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(groupElement(name));
    }
}
