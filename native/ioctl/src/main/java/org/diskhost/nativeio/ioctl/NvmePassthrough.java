package org.diskhost.nativeio.ioctl;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * NVMe commands through the Linux passthrough ioctls of {@code linux/nvme_ioctl.h}: {@code struct nvme_passthru_cmd}
 * (72 bytes) with {@link #NVME_IOCTL_ADMIN_CMD} or {@link #NVME_IOCTL_IO_CMD} on a namespace's block device
 * ({@code /dev/nvme0n1}), and {@link #NVME_IOCTL_ID} for its namespace id. Data structures follow the NVM Express
 * Base Specification (Identify Controller and Namespace, Reservation Report); they are little-endian.
 *
 * <p>A command has three outcomes: success (the completion's dword 0 is returned); a negative ioctl result, an
 * {@link ErrnoException} ({@link Errno#ENOTTY} on a device that is not NVMe, {@link Errno#EACCES} or
 * {@link Errno#EPERM} for admin commands without {@code CAP_SYS_ADMIN}, {@link Errno#EINTR} never: it is
 * retried); or a positive result, the command's NVMe status, an {@link NvmeStatusException}.
 *
 * <p>The pure pieces ({@link #encode}, the records' {@code parse}) are tested with byte fixtures laid out per the
 * specification; the machines this project is tested on have no NVMe device, so the ioctls themselves are tested
 * only for their numbers and the struct's layout.
 */
public final class NvmePassthrough {
    /** Admin opcode Identify. */
    public static final int ADMIN_IDENTIFY = 0x06;
    /** NVM command set I/O opcode Reservation Report. */
    public static final int IO_RESERVATION_REPORT = 0x0E;
    /** Identify CNS values: the namespace (0) and the controller (1) data structures. */
    public static final int CNS_NAMESPACE = 0x00;
    public static final int CNS_CONTROLLER = 0x01;
    /** Every Identify data structure is 4 KiB. */
    public static final int IDENTIFY_BYTES = 4096;
    /** The first Reservation Report transfer; most namespaces have a handful of registrants, 63 fit. */
    public static final int REPORT_FIRST_BYTES = 4096;
    /** The extended Reservation Report's header, and each registrant's entry after it. */
    public static final int REPORT_HEADER_BYTES = 64;
    public static final int REPORT_ENTRY_BYTES = 64;

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;

    /** struct nvme_passthru_cmd (72 bytes, native byte order: it is the kernel's struct, not the wire format). */
    public static final StructLayout PASSTHRU_CMD = MemoryLayout.structLayout(
            U8.withName("opcode"), U8.withName("flags"), U16.withName("rsvd1"), U32.withName("nsid"),
            U32.withName("cdw2"), U32.withName("cdw3"), U64.withName("metadata"), U64.withName("addr"),
            U32.withName("metadata_len"), U32.withName("data_len"), U32.withName("cdw10"), U32.withName("cdw11"),
            U32.withName("cdw12"), U32.withName("cdw13"), U32.withName("cdw14"), U32.withName("cdw15"),
            U32.withName("timeout_ms"), U32.withName("result")).withName("nvme_passthru_cmd");

    /** {@code _IO('N', 0x40)}: the namespace id of a namespace's block device, as the ioctl's result. */
    public static final long NVME_IOCTL_ID = IoctlRequest.io('N', 0x40);
    /** {@code _IOWR('N', 0x41, struct nvme_passthru_cmd)}. */
    public static final long NVME_IOCTL_ADMIN_CMD = IoctlRequest.iowr('N', 0x41, PASSTHRU_CMD.byteSize());
    /** {@code _IOWR('N', 0x43, struct nvme_passthru_cmd)}. */
    public static final long NVME_IOCTL_IO_CMD = IoctlRequest.iowr('N', 0x43, PASSTHRU_CMD.byteSize());

    private static final VarHandle OPCODE = field("opcode");
    private static final VarHandle NSID = field("nsid");
    private static final VarHandle ADDR = field("addr");
    private static final VarHandle DATA_LEN = field("data_len");
    private static final VarHandle[] CDW10_15 = {field("cdw10"), field("cdw11"), field("cdw12"), field("cdw13"),
        field("cdw14"), field("cdw15")};
    private static final VarHandle TIMEOUT_MS = field("timeout_ms");
    private static final VarHandle RESULT = field("result");

    // NVMe data structures are little-endian whatever the host; some fields are unaligned (REGCTL at byte 5).
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private NvmePassthrough() {
    }

    /** Which queue a command goes to: the admin queue or an I/O queue of the namespace. */
    public enum Queue {
        ADMIN(NVME_IOCTL_ADMIN_CMD, "NVME_IOCTL_ADMIN_CMD"),
        IO(NVME_IOCTL_IO_CMD, "NVME_IOCTL_IO_CMD");

        private final long request;
        private final String ioctlName;

        Queue(long request, String ioctlName) {
            this.request = request;
            this.ioctlName = ioctlName;
        }

        /** The ioctl request number that submits to this queue. */
        public long request() {
            return request;
        }
    }

    /**
     * An NVMe command without its data pointer: opcode, namespace id and command dwords 10..15 (the
     * command-specific ones); {@code timeoutMs} 0 means the driver's default.
     */
    public record Command(int opcode, int nsid, int cdw10, int cdw11, int cdw12, int cdw13, int cdw14, int cdw15,
            int timeoutMs) {
        public Command {
            if (opcode < 0 || opcode > 0xff) {
                throw new IllegalArgumentException("NVMe opcode " + opcode + " is not a byte");
            }
        }

        /** Identify (admin 0x06) of data structure {@code cns} (CDW10 bits 7:0) for namespace {@code nsid}. */
        public static Command identify(int cns, int nsid) {
            return new Command(ADMIN_IDENTIFY, nsid, cns & 0xff, 0, 0, 0, 0, 0, 0);
        }

        /**
         * Reservation Report (I/O 0x0E) of namespace {@code nsid} into {@code bytes} bytes (a multiple of 4: CDW10 is
         * NUMD, the dword count minus one), in the extended format (CDW11 bit 0, EDS: 128-bit host ids).
         */
        public static Command reservationReport(int nsid, int bytes) {
            if (bytes < 4 || bytes % 4 != 0) {
                throw new IllegalArgumentException("a Reservation Report of " + bytes + " bytes: a positive multiple"
                        + " of 4 is needed");
            }
            return new Command(IO_RESERVATION_REPORT, nsid, bytes / 4 - 1, 1, 0, 0, 0, 0, 0);
        }
    }

    /**
     * Lays {@code command} out as a {@code struct nvme_passthru_cmd} in {@code arena}, pointing at {@code data} (its
     * address and size; {@link MemorySegment#NULL} for none).
     */
    public static MemorySegment encode(Arena arena, Command command, MemorySegment data) {
        if (data.byteSize() > 0xffff_ffffL) {
            throw new IllegalArgumentException("NVMe data of " + data.byteSize() + " bytes: data_len is 32 bits");
        }
        MemorySegment cmd = arena.allocate(PASSTHRU_CMD);
        OPCODE.set(cmd, 0L, (byte) command.opcode());
        NSID.set(cmd, 0L, command.nsid());
        ADDR.set(cmd, 0L, data.address());
        DATA_LEN.set(cmd, 0L, (int) data.byteSize());
        int[] cdws = {command.cdw10(), command.cdw11(), command.cdw12(), command.cdw13(), command.cdw14(),
            command.cdw15()};
        for (int i = 0; i < cdws.length; i++) {
            CDW10_15[i].set(cmd, 0L, cdws[i]);
        }
        TIMEOUT_MS.set(cmd, 0L, command.timeoutMs());
        return cmd;
    }

    /**
     * Submits {@code command} to {@code queue} with {@code data} (native memory the device reads or fills; the
     * direction follows from the opcode) and waits for its completion.
     *
     * @return the completion's dword 0 (command specific; 0 for most)
     * @throws NvmeStatusException when the command completed with a non-zero status
     * @throws ErrnoException      when the kernel refused the ioctl (see the class description)
     */
    public static int submit(int fd, Queue queue, Command command, MemorySegment data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cmd = encode(arena, command, data);
            String what = queue.ioctlName + " opcode 0x" + Integer.toHexString(command.opcode()) + " nsid "
                    + command.nsid() + " fd " + fd;
            int status = Ioctl.call(fd, queue.request, cmd, what);
            if (status != 0) {
                throw new NvmeStatusException(what, status);
            }
            return (int) RESULT.get(cmd, 0L);
        }
    }

    /** The namespace id of the namespace block device {@code fd} (NVME_IOCTL_ID); ENOTTY on anything else. */
    public static int namespaceId(int fd) throws ErrnoException {
        return Ioctl.call(fd, NVME_IOCTL_ID, 0L, "NVME_IOCTL_ID fd " + fd);
    }

    /** Identify Controller (CNS 1), the fields the block backend needs. */
    public record IdentifyController(int oncs) {
        /** Byte offset of ONCS (Optional NVM Command Support, 16 bits). */
        public static final int ONCS_AT = 520;
        /** ONCS bit 5: the Reservation commands are supported. */
        public static final int ONCS_RESERVATIONS = 1 << 5;

        /** Whether the controller supports the Reservation commands (ONCS bit 5). */
        public boolean reservations() {
            return (oncs & ONCS_RESERVATIONS) != 0;
        }

        /** Reads the fields from an Identify Controller data structure (4096 bytes). */
        public static IdentifyController parse(MemorySegment data) {
            requireSize(data, IDENTIFY_BYTES, "Identify Controller");
            return new IdentifyController(Short.toUnsignedInt(data.get(LE16, ONCS_AT)));
        }
    }

    /**
     * Identify Namespace (CNS 0): {@code nsze}, the namespace's size in logical blocks, and {@code rescap}, its
     * Reservation Capabilities (bit 0: persist through power loss; bits 1..6: reservation types 1..6 supported, in
     * the NVMe numbering; bit 7: ignore existing key).
     */
    public record IdentifyNamespace(long nsze, int rescap) {
        /** Byte offset of NSZE (64 bits). */
        public static final int NSZE_AT = 0;
        /** Byte offset of RESCAP (8 bits), after NSZE, NCAP, NUSE and NSFEAT..NMIC (bytes 24..30). */
        public static final int RESCAP_AT = 31;

        /** Whether reservations of NVMe type {@code type} (1..6) are supported: RESCAP bit {@code type}. */
        public boolean supportsType(int type) {
            return type >= 1 && type <= 6 && (rescap & 1 << type) != 0;
        }

        /** Whether the namespace supports any reservation type. */
        public boolean reservations() {
            return (rescap & 0b0111_1110) != 0;
        }

        /** Reads the fields from an Identify Namespace data structure (4096 bytes). */
        public static IdentifyNamespace parse(MemorySegment data) {
            requireSize(data, IDENTIFY_BYTES, "Identify Namespace");
            return new IdentifyNamespace(data.get(LE64, NSZE_AT), Byte.toUnsignedInt(data.get(U8, RESCAP_AT)));
        }
    }

    /**
     * One registrant of the extended Reservation Report: its controller id (0xFFFF: dynamic controller model, id not
     * reported), whether it holds the reservation (RCSTS bit 0), its 128-bit host id and its reservation key.
     */
    public record Registrant(int controllerId, boolean holdsReservation, byte[] hostId, long key) {
        public Registrant {
            if (hostId.length != 16) {
                throw new IllegalArgumentException("a host id of " + hostId.length + " bytes; the extended report's"
                        + " are 16");
            }
            hostId = hostId.clone();
        }

        @Override
        public byte[] hostId() {
            return hostId.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Registrant r && r.controllerId == controllerId
                    && r.holdsReservation == holdsReservation && Arrays.equals(r.hostId, hostId) && r.key == key;
        }

        @Override
        public int hashCode() {
            return ((controllerId * 31 + Boolean.hashCode(holdsReservation)) * 31 + Arrays.hashCode(hostId)) * 31
                    + Long.hashCode(key);
        }

        @Override
        public String toString() {
            return "Registrant[controllerId=" + controllerId + ", holdsReservation=" + holdsReservation + ", hostId="
                    + HexFormat.of().formatHex(hostId) + ", key=0x" + Long.toHexString(key) + "]";
        }
    }

    /**
     * The extended Reservation Report (Reservation Status Extended Data Structure): {@code generation} (GEN, 32
     * bits, incremented on each registration change, as an int's bits), {@code reservationType} (RTYPE: 0 none,
     * 1..6 the NVMe types), {@code persistThroughPowerLoss} (PTPLS bit 0) and every registrant.
     */
    public record ReservationStatus(int generation, int reservationType, boolean persistThroughPowerLoss,
            List<Registrant> registrants) {
        static final int GEN_AT = 0;
        static final int RTYPE_AT = 4;
        /** REGCTL, the number of registrants (16 bits, unaligned). */
        static final int REGCTL_AT = 5;
        static final int PTPLS_AT = 9;
        // Within an entry (Registered Controller Extended Data Structure).
        static final int CNTLID_AT = 0;
        static final int RCSTS_AT = 2;
        static final int RKEY_AT = 8;
        static final int HOSTID_AT = 16;

        public ReservationStatus {
            registrants = List.copyOf(registrants);
        }

        /** The number of registrants a report's header announces (REGCTL); needs the header's 64 bytes. */
        public static int registrantCount(MemorySegment report) {
            requireSize(report, REPORT_HEADER_BYTES, "Reservation Report header");
            return Short.toUnsignedInt(report.get(LE16, REGCTL_AT));
        }

        /** The bytes a report with {@code registrants} entries takes. */
        public static int bytesFor(int registrants) {
            return REPORT_HEADER_BYTES + REPORT_ENTRY_BYTES * registrants;
        }

        /**
         * Reads an extended report.
         *
         * @throws IllegalArgumentException when {@code report} is too small for the registrants its header announces
         *                                  (see {@link #registrantCount})
         */
        public static ReservationStatus parse(MemorySegment report) {
            int count = registrantCount(report);
            requireSize(report, bytesFor(count), "Reservation Report of " + count + " registrants");
            List<Registrant> registrants = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                MemorySegment entry = report.asSlice(bytesFor(i), REPORT_ENTRY_BYTES);
                registrants.add(new Registrant(Short.toUnsignedInt(entry.get(LE16, CNTLID_AT)),
                        (entry.get(U8, RCSTS_AT) & 1) != 0,
                        entry.asSlice(HOSTID_AT, 16).toArray(ValueLayout.JAVA_BYTE),
                        entry.get(LE64, RKEY_AT)));
            }
            return new ReservationStatus(report.get(LE32, GEN_AT), Byte.toUnsignedInt(report.get(U8, RTYPE_AT)),
                    (report.get(U8, PTPLS_AT) & 1) != 0, registrants);
        }
    }

    /** Identify Controller (CNS 1) of the controller behind {@code fd}; needs {@code CAP_SYS_ADMIN}. */
    public static IdentifyController identifyController(int fd) throws IOException {
        return IdentifyController.parse(identify(fd, CNS_CONTROLLER, 0));
    }

    /** Identify Namespace (CNS 0) of namespace {@code nsid} (see {@link #namespaceId}); needs {@code CAP_SYS_ADMIN}. */
    public static IdentifyNamespace identifyNamespace(int fd, int nsid) throws IOException {
        return IdentifyNamespace.parse(identify(fd, CNS_NAMESPACE, nsid));
    }

    private static MemorySegment identify(int fd, int cns, int nsid) throws IOException {
        // Heap copy, so that the native buffer is freed here whatever the caller keeps.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(IDENTIFY_BYTES, 4096);
            submit(fd, Queue.ADMIN, Command.identify(cns, nsid), data);
            return MemorySegment.ofArray(data.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * Reservation Report (opcode 0x0E, CDW11 EDS=1) of namespace {@code nsid}: one 4 KiB transfer first; when the
     * header announces more registrants than fit, once more with a buffer for all of them.
     *
     * @throws NvmeStatusException for example Invalid Opcode (SC 0x01) when the controller has no reservations
     * @throws IOException         when registrants were added between the two transfers so that they still do not
     *                             fit (a caller may simply ask again)
     */
    public static ReservationStatus reservationReport(int fd, int nsid) throws IOException {
        return reservationReport((queue, command, data) -> submit(fd, queue, command, data), nsid);
    }

    /** What submits a command; the real one is {@link #submit}, a test's fills the buffer itself. */
    @FunctionalInterface
    interface Submitter {
        int submit(Queue queue, Command command, MemorySegment data) throws IOException;
    }

    static ReservationStatus reservationReport(Submitter submitter, int nsid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(REPORT_FIRST_BYTES, 4096);
            submitter.submit(Queue.IO, Command.reservationReport(nsid, REPORT_FIRST_BYTES), data);
            int count = ReservationStatus.registrantCount(data);
            if (ReservationStatus.bytesFor(count) > data.byteSize()) {
                int bytes = ReservationStatus.bytesFor(count);
                data = arena.allocate(bytes, 4096);
                submitter.submit(Queue.IO, Command.reservationReport(nsid, bytes), data);
                int now = ReservationStatus.registrantCount(data);
                if (ReservationStatus.bytesFor(now) > bytes) {
                    throw new IOException("Reservation Report of namespace " + nsid + ": " + count
                            + " registrants became " + now + " between two reports");
                }
            }
            return ReservationStatus.parse(data);
        }
    }

    /**
     * A command that completed with a non-zero NVMe status: the ioctl's positive result, the completion's status
     * field without its phase bit (bits 7:0 SC, 10:8 SCT, 12:11 CRD, 13 More, 14 DNR).
     */
    public static final class NvmeStatusException extends IOException {
        private static final long serialVersionUID = 1L;
        /** Generic Command Status (SCT 0) Reservation Conflict. */
        public static final int SC_RESERVATION_CONFLICT = 0x83;
        private final int status;

        public NvmeStatusException(String what, int status) {
            super(what + ": NVMe status 0x" + Integer.toHexString(status) + " (SCT " + ((status >> 8) & 0x7)
                    + ", SC 0x" + Integer.toHexString(status & 0xff) + (isConflict(status) ? ", reservation conflict"
                    : "") + ((status & 0x4000) != 0 ? ", do not retry" : "") + ")");
            this.status = status;
        }

        /** The status as the kernel reported it. */
        public int status() {
            return status;
        }

        /** Status Code Type (bits 10:8): 0 generic, 1 command specific, 2 media and data integrity, 3 path. */
        public int statusCodeType() {
            return (status >> 8) & 0x7;
        }

        /** Status Code (bits 7:0), within its {@link #statusCodeType()}. */
        public int statusCode() {
            return status & 0xff;
        }

        /** Whether the command was refused for a reservation conflict (SCT 0, SC 0x83). */
        public boolean reservationConflict() {
            return isConflict(status);
        }

        private static boolean isConflict(int status) {
            return (status & 0x7ff) == SC_RESERVATION_CONFLICT;
        }
    }

    private static void requireSize(MemorySegment data, long bytes, String what) {
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes; " + data.byteSize() + " given");
        }
    }

    private static VarHandle field(String name) {
        return PASSTHRU_CMD.varHandle(groupElement(name));
    }
}
