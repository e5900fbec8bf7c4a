package org.diskhost.nativeio.uring;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The io_uring structures and constants of the kernel's uapi header {@code linux/io_uring.h}, as layouts with the
 * header's field names (unions appear as the member this package uses, noted where it differs). Field offsets are
 * derived from the layouts, never written twice; {@code UringLayoutsTest} checks them against the header.
 */
final class UringLayouts {
    // Opcodes (enum io_uring_op).
    static final int IORING_OP_NOP = 0;
    static final int IORING_OP_READV = 1;
    static final int IORING_OP_WRITEV = 2;
    static final int IORING_OP_FSYNC = 3;
    static final int IORING_OP_FALLOCATE = 17;
    static final int IORING_OP_READ = 22;
    static final int IORING_OP_WRITE = 23;
    /** The last opcode of the kernel's header, 6.1 (IORING_OP_SENDMSG_ZC); probe buffers hold 256 entries anyway. */
    static final int PROBE_OPS = 256;

    // io_uring_params.flags (IORING_SETUP_*).
    /** Completions do not interrupt the ring's thread in user space; they are run when it enters (5.19). */
    static final int IORING_SETUP_COOP_TASKRUN = 1 << 8;
    /** Only the thread that made the ring submits (6.0). */
    static final int IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    /** Completions are run only in io_uring_enter with GETEVENTS, on the submitting thread (6.1). */
    static final int IORING_SETUP_DEFER_TASKRUN = 1 << 13;

    static final int IORING_FSYNC_DATASYNC = 1;
    static final int IORING_FEAT_SINGLE_MMAP = 1;
    static final int IORING_ENTER_GETEVENTS = 1;
    static final int IORING_REGISTER_PROBE = 8;
    static final int IO_URING_OP_SUPPORTED = 1;
    static final long IORING_OFF_SQ_RING = 0L;
    static final long IORING_OFF_SQES = 0x10000000L;

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;

    /** struct io_sqring_offsets. */
    static final StructLayout SQRING_OFFSETS = MemoryLayout.structLayout(
            U32.withName("head"), U32.withName("tail"), U32.withName("ring_mask"), U32.withName("ring_entries"),
            U32.withName("flags"), U32.withName("dropped"), U32.withName("array"), U32.withName("resv1"),
            U64.withName("resv2")).withName("io_sqring_offsets");

    /** struct io_cqring_offsets. */
    static final StructLayout CQRING_OFFSETS = MemoryLayout.structLayout(
            U32.withName("head"), U32.withName("tail"), U32.withName("ring_mask"), U32.withName("ring_entries"),
            U32.withName("overflow"), U32.withName("cqes"), U32.withName("flags"), U32.withName("resv1"),
            U64.withName("resv2")).withName("io_cqring_offsets");

    /** struct io_uring_params. */
    static final StructLayout PARAMS = MemoryLayout.structLayout(
            U32.withName("sq_entries"), U32.withName("cq_entries"), U32.withName("flags"),
            U32.withName("sq_thread_cpu"), U32.withName("sq_thread_idle"), U32.withName("features"),
            U32.withName("wq_fd"), MemoryLayout.sequenceLayout(3, U32).withName("resv"),
            SQRING_OFFSETS.withName("sq_off"), CQRING_OFFSETS.withName("cq_off")).withName("io_uring_params");

    /** struct io_uring_sqe (64 bytes, without IORING_SETUP_SQE128). */
    static final StructLayout SQE = MemoryLayout.structLayout(
            U8.withName("opcode"), U8.withName("flags"), U16.withName("ioprio"), U32.withName("fd"),
            U64.withName("off"), // union with addr2
            U64.withName("addr"), // union with splice_off_in
            U32.withName("len"),
            U32.withName("rw_flags"), // union with fsync_flags and the other per-opcode flags
            U64.withName("user_data"),
            U16.withName("buf_index"), // union with buf_group
            U16.withName("personality"),
            U32.withName("file_index"), // union with splice_fd_in
            U64.withName("addr3"), U64.withName("__pad2")).withName("io_uring_sqe");

    /** struct io_uring_cqe (16 bytes, without IORING_SETUP_CQE32). */
    static final StructLayout CQE = MemoryLayout.structLayout(
            U64.withName("user_data"), U32.withName("res"), U32.withName("flags")).withName("io_uring_cqe");

    /** struct io_uring_probe_op. */
    static final StructLayout PROBE_OP = MemoryLayout.structLayout(
            U8.withName("op"), U8.withName("resv"), U16.withName("flags"), U32.withName("resv2"))
            .withName("io_uring_probe_op");

    /** struct io_uring_probe with {@link #PROBE_OPS} entries of {@code ops[]}. */
    static final StructLayout PROBE = MemoryLayout.structLayout(
            U8.withName("last_op"), U8.withName("ops_len"), U16.withName("resv"),
            MemoryLayout.sequenceLayout(3, U32).withName("resv2"),
            MemoryLayout.sequenceLayout(PROBE_OPS, PROBE_OP).withName("ops")).withName("io_uring_probe");

    /** struct iovec. */
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("iov_base"), U64.withName("iov_len")).withName("iovec");

    static final long P_SQ_ENTRIES = PARAMS.byteOffset(groupElement("sq_entries"));
    static final long P_CQ_ENTRIES = PARAMS.byteOffset(groupElement("cq_entries"));
    static final long P_FLAGS = PARAMS.byteOffset(groupElement("flags"));
    static final long P_FEATURES = PARAMS.byteOffset(groupElement("features"));
    static final long P_SQ_OFF = PARAMS.byteOffset(groupElement("sq_off"));
    static final long P_CQ_OFF = PARAMS.byteOffset(groupElement("cq_off"));
    static final long SQ_OFF_HEAD = SQRING_OFFSETS.byteOffset(groupElement("head"));
    static final long SQ_OFF_TAIL = SQRING_OFFSETS.byteOffset(groupElement("tail"));
    static final long SQ_OFF_RING_MASK = SQRING_OFFSETS.byteOffset(groupElement("ring_mask"));
    static final long SQ_OFF_ARRAY = SQRING_OFFSETS.byteOffset(groupElement("array"));
    static final long CQ_OFF_HEAD = CQRING_OFFSETS.byteOffset(groupElement("head"));
    static final long CQ_OFF_TAIL = CQRING_OFFSETS.byteOffset(groupElement("tail"));
    static final long CQ_OFF_RING_MASK = CQRING_OFFSETS.byteOffset(groupElement("ring_mask"));
    static final long CQ_OFF_CQES = CQRING_OFFSETS.byteOffset(groupElement("cqes"));

    static final long SQE_OPCODE = SQE.byteOffset(groupElement("opcode"));
    static final long SQE_FD = SQE.byteOffset(groupElement("fd"));
    static final long SQE_OFF = SQE.byteOffset(groupElement("off"));
    static final long SQE_ADDR = SQE.byteOffset(groupElement("addr"));
    static final long SQE_LEN = SQE.byteOffset(groupElement("len"));
    static final long SQE_RW_FLAGS = SQE.byteOffset(groupElement("rw_flags"));
    static final long SQE_USER_DATA = SQE.byteOffset(groupElement("user_data"));
    static final long CQE_USER_DATA = CQE.byteOffset(groupElement("user_data"));
    static final long CQE_RES = CQE.byteOffset(groupElement("res"));

    static final long PROBE_LAST_OP = PROBE.byteOffset(groupElement("last_op"));
    static final long PROBE_OPS_LEN = PROBE.byteOffset(groupElement("ops_len"));
    static final long PROBE_OPS_AT = PROBE.byteOffset(groupElement("ops"));
    static final long PROBE_OP_FLAGS = PROBE_OP.byteOffset(groupElement("flags"));

    /** Acquire/release access to the ring's shared head and tail words: (MemorySegment, long offset). */
    static final VarHandle RING_WORD = U32.varHandle();

    /** The names of the {@code IORING_SETUP_*} bits this package sets, for messages: "COOP_TASKRUN, ..." or "none". */
    static String setupFlagNames(int flags) {
        java.util.List<String> names = new java.util.ArrayList<>();
        if ((flags & IORING_SETUP_COOP_TASKRUN) != 0) {
            names.add("COOP_TASKRUN");
        }
        if ((flags & IORING_SETUP_SINGLE_ISSUER) != 0) {
            names.add("SINGLE_ISSUER");
        }
        if ((flags & IORING_SETUP_DEFER_TASKRUN) != 0) {
            names.add("DEFER_TASKRUN");
        }
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private UringLayouts() {
    }
}
