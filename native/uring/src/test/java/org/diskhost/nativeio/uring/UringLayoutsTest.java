package org.diskhost.nativeio.uring;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;

/**
 * The layouts and constants against the kernel's uapi header {@code include/uapi/linux/io_uring.h} (values as in
 * Linux 6.1's header, unchanged since they were introduced: the ABI is stable).
 */
class UringLayoutsTest {
    private static long at(StructLayout layout, String... path) {
        var elements = new MemoryLayout.PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }

    @Test
    void structSizes() {
        assertEquals(64, UringLayouts.SQE.byteSize(), "io_uring_sqe");
        assertEquals(16, UringLayouts.CQE.byteSize(), "io_uring_cqe");
        assertEquals(120, UringLayouts.PARAMS.byteSize(), "io_uring_params");
        assertEquals(40, UringLayouts.SQRING_OFFSETS.byteSize(), "io_sqring_offsets");
        assertEquals(40, UringLayouts.CQRING_OFFSETS.byteSize(), "io_cqring_offsets");
        assertEquals(8, UringLayouts.PROBE_OP.byteSize(), "io_uring_probe_op");
        assertEquals(16, UringLayouts.PROBE_OPS_AT, "io_uring_probe header");
        assertEquals(16 + 8 * 256, UringLayouts.PROBE.byteSize(), "io_uring_probe with 256 ops");
        assertEquals(16, UringLayouts.IOVEC.byteSize(), "iovec");
    }

    @Test
    void sqeFields() {
        StructLayout sqe = UringLayouts.SQE;
        assertEquals(0, at(sqe, "opcode"));
        assertEquals(1, at(sqe, "flags"));
        assertEquals(2, at(sqe, "ioprio"));
        assertEquals(4, at(sqe, "fd"));
        assertEquals(8, at(sqe, "off"));
        assertEquals(16, at(sqe, "addr"));
        assertEquals(24, at(sqe, "len"));
        assertEquals(28, at(sqe, "rw_flags"));
        assertEquals(32, at(sqe, "user_data"));
        assertEquals(40, at(sqe, "buf_index"));
        assertEquals(42, at(sqe, "personality"));
        assertEquals(44, at(sqe, "file_index"));
        assertEquals(48, at(sqe, "addr3"));
    }

    @Test
    void cqeAndParamsFields() {
        assertEquals(0, at(UringLayouts.CQE, "user_data"));
        assertEquals(8, at(UringLayouts.CQE, "res"));
        assertEquals(12, at(UringLayouts.CQE, "flags"));

        StructLayout params = UringLayouts.PARAMS;
        assertEquals(0, at(params, "sq_entries"));
        assertEquals(4, at(params, "cq_entries"));
        assertEquals(8, at(params, "flags"));
        assertEquals(20, at(params, "features"));
        assertEquals(24, at(params, "wq_fd"));
        assertEquals(40, at(params, "sq_off"));
        assertEquals(80, at(params, "cq_off"));
        assertEquals(40 + 24, at(params, "sq_off", "array"));
        assertEquals(80 + 16, at(params, "cq_off", "overflow"));
        assertEquals(80 + 20, at(params, "cq_off", "cqes"));
        assertEquals(80 + 24, at(params, "cq_off", "flags"));

        assertEquals(0, at(UringLayouts.PROBE_OP, "op"));
        assertEquals(2, at(UringLayouts.PROBE_OP, "flags"));
        assertEquals(1, UringLayouts.PROBE_OPS_LEN);
    }

    @Test
    void constants() {
        assertEquals(0, UringLayouts.IORING_OP_NOP);
        assertEquals(1, UringLayouts.IORING_OP_READV);
        assertEquals(2, UringLayouts.IORING_OP_WRITEV);
        assertEquals(3, UringLayouts.IORING_OP_FSYNC);
        assertEquals(17, UringLayouts.IORING_OP_FALLOCATE);
        assertEquals(22, UringLayouts.IORING_OP_READ);
        assertEquals(23, UringLayouts.IORING_OP_WRITE);
        assertEquals(1 << 8, UringLayouts.IORING_SETUP_COOP_TASKRUN);
        assertEquals(1 << 12, UringLayouts.IORING_SETUP_SINGLE_ISSUER);
        assertEquals(1 << 13, UringLayouts.IORING_SETUP_DEFER_TASKRUN);
        assertEquals(1, UringLayouts.IORING_FSYNC_DATASYNC);
        assertEquals(1, UringLayouts.IORING_FEAT_SINGLE_MMAP);
        assertEquals(1, UringLayouts.IORING_ENTER_GETEVENTS);
        assertEquals(8, UringLayouts.IORING_REGISTER_PROBE);
        assertEquals(1, UringLayouts.IO_URING_OP_SUPPORTED);
        assertEquals(0L, UringLayouts.IORING_OFF_SQ_RING);
        assertEquals(0x10000000L, UringLayouts.IORING_OFF_SQES);
        // arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (aarch64) agree.
        assertEquals(425, Linux.SYS_IO_URING_SETUP);
        assertEquals(426, Linux.SYS_IO_URING_ENTER);
        assertEquals(427, Linux.SYS_IO_URING_REGISTER);
        // include/uapi/linux/fs.h and falloc.h
        assertEquals(2, Uring.RWF_DSYNC);
        assertEquals(1, Uring.FALLOC_FL_KEEP_SIZE);
        assertEquals(2, Uring.FALLOC_FL_PUNCH_HOLE);
        assertEquals(0x10, Uring.FALLOC_FL_ZERO_RANGE);
    }
}
