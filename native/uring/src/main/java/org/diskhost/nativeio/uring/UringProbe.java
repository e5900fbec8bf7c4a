package org.diskhost.nativeio.uring;

import static org.diskhost.nativeio.uring.UringLayouts.IORING_FEAT_SINGLE_MMAP;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_FALLOCATE;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_FSYNC;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_NOP;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_READ;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_READV;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_WRITE;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_OP_WRITEV;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_SETUP_COOP_TASKRUN;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_SETUP_DEFER_TASKRUN;
import static org.diskhost.nativeio.uring.UringLayouts.IORING_SETUP_SINGLE_ISSUER;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.Libc;

/**
 * {@link Uring#probe()}: a throwaway ring, set up with the newest setup flags the kernel takes and asked which opcodes
 * it supports.
 */
final class UringProbe {
    /** The opcodes {@link Uring} submits, with the header's names for messages. */
    static final Map<Integer, String> REQUIRED = new TreeMap<>(Map.of(IORING_OP_NOP, "NOP", IORING_OP_READV,
            "READV", IORING_OP_WRITEV, "WRITEV", IORING_OP_FSYNC, "FSYNC", IORING_OP_FALLOCATE, "FALLOCATE",
            IORING_OP_READ, "READ", IORING_OP_WRITE, "WRITE"));
    /**
     * The setup flags tried, in this order, until the kernel accepts one set: DEFER_TASKRUN (6.1) needs
     * SINGLE_ISSUER (6.0), which came after COOP_TASKRUN (5.19).
     */
    static final int[] SETUP_FLAGS = {
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    private static final Path IO_URING_DISABLED = Path.of("/proc/sys/kernel/io_uring_disabled");

    private UringProbe() {
    }

    static UringSupport probe() {
        String setting = System.getProperty(UringSupport.PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
        switch (setting) {
            case "off" -> {
                return new UringSupport.Unavailable("disabled by the system property " + UringSupport.PROPERTY
                        + "=off");
            }
            case "auto", "" -> { }
            default -> {
                return new UringSupport.Unavailable("the system property " + UringSupport.PROPERTY + "=" + setting
                        + " is neither auto nor off");
            }
        }
        if (Linux.UNBOUND != null) {
            return new UringSupport.Unavailable(Linux.UNBOUND);
        }
        String kernel = System.getProperty("os.version", "?");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment params = arena.allocate(UringLayouts.PARAMS);
            // The newest flags first: a kernel that does not know one answers EINVAL.
            int fd = -Errno.EINVAL;
            int setupFlags = 0;
            for (int flags : SETUP_FLAGS) {
                params.fill((byte) 0);
                params.set(ValueLayout.JAVA_INT, UringLayouts.P_FLAGS, flags);
                fd = Linux.ioUringSetup(state, 2, params);
                setupFlags = flags;
                if (fd != -Errno.EINVAL) {
                    break;
                }
            }
            if (fd < 0) {
                return new UringSupport.Unavailable(refusal(-fd, ioUringDisabled(), kernel));
            }
            try {
                int features = params.get(ValueLayout.JAVA_INT, UringLayouts.P_FEATURES);
                if ((features & IORING_FEAT_SINGLE_MMAP) == 0) {
                    return new UringSupport.Unavailable("kernel " + kernel
                            + " lacks IORING_FEAT_SINGLE_MMAP (io_uring before Linux 5.4)");
                }
                MemorySegment probe = arena.allocate(UringLayouts.PROBE);
                int rc = Linux.ioUringRegister(state, fd, UringLayouts.IORING_REGISTER_PROBE, probe,
                        UringLayouts.PROBE_OPS);
                if (rc < 0) {
                    return new UringSupport.Unavailable("kernel " + kernel + " answers IORING_REGISTER_PROBE with "
                            + Errno.describe(-rc) + " (io_uring before Linux 5.6)");
                }
                Set<Integer> supported = supported(probe);
                Set<String> missing = new TreeSet<>();
                REQUIRED.forEach((op, name) -> {
                    if (!supported.contains(op)) {
                        missing.add("IORING_OP_" + name);
                    }
                });
                if (!missing.isEmpty()) {
                    return new UringSupport.Unavailable("kernel " + kernel + " lacks " + String.join(", ", missing));
                }
                return new UringSupport.Available(features, setupFlags, supported, kernel);
            } finally {
                Libc.close(fd);
            }
        } catch (IOException e) {
            return new UringSupport.Unavailable("closing the probe ring failed: " + e.getMessage());
        }
    }

    /** The opcodes flagged IO_URING_OP_SUPPORTED in a filled {@code struct io_uring_probe}. */
    static Set<Integer> supported(MemorySegment probe) {
        int count = Byte.toUnsignedInt(probe.get(ValueLayout.JAVA_BYTE, UringLayouts.PROBE_OPS_LEN));
        Set<Integer> supported = new HashSet<>();
        for (int i = 0; i < Math.min(count, UringLayouts.PROBE_OPS); i++) {
            long at = UringLayouts.PROBE_OPS_AT + i * UringLayouts.PROBE_OP.byteSize();
            short flags = probe.get(ValueLayout.JAVA_SHORT, at + UringLayouts.PROBE_OP_FLAGS);
            if ((flags & UringLayouts.IO_URING_OP_SUPPORTED) != 0) {
                supported.add(i);
            }
        }
        return supported;
    }

    /**
     * Why {@code io_uring_setup} failed with {@code errno}, given the content of
     * {@code /proc/sys/kernel/io_uring_disabled} (null where the file is missing).
     */
    static String refusal(int errno, String ioUringDisabled, String kernel) {
        return switch (errno) {
            case Errno.ENOSYS -> "io_uring_setup is not implemented (ENOSYS): kernel " + kernel
                    + " lacks io_uring, or a seccomp filter hides it";
            case Errno.EPERM -> switch (ioUringDisabled == null ? "" : ioUringDisabled) {
                case "2" -> "io_uring is disabled on this host (sysctl kernel.io_uring_disabled=2)";
                case "1" -> "io_uring is restricted on this host (sysctl kernel.io_uring_disabled=1) and this process"
                        + " is neither privileged nor in kernel.io_uring_group";
                default -> "io_uring_setup refused (EPERM): a seccomp filter or security module forbids io_uring";
            };
            case Errno.ENOMEM -> "io_uring_setup: " + Errno.describe(errno)
                    + " (before Linux 5.12 rings count against RLIMIT_MEMLOCK)";
            default -> "io_uring_setup failed: " + Errno.describe(errno) + " (errno " + errno + ")";
        };
    }

    private static String ioUringDisabled() {
        try {
            return Files.readString(IO_URING_DISABLED).strip();
        } catch (IOException | SecurityException e) {
            return null; // before Linux 6.6 the sysctl does not exist
        }
    }
}
