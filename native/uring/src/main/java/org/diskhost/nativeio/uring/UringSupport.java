package org.diskhost.nativeio.uring;

import java.io.IOException;
import java.util.Set;
import org.diskhost.nativeio.libc.Errno;

/**
 * What {@link Uring#probe()} found: io_uring usable here ({@link Available}, the only way to open a ring), or not and
 * why ({@link Unavailable}).
 */
public sealed interface UringSupport permits UringSupport.Available, UringSupport.Unavailable {
    /**
     * The system property that decides whether io_uring is used: {@code auto} (the default: where the kernel offers
     * it) or {@code off} (never; the backends use their portable engines).
     */
    String PROPERTY = "diskhost.uring";

    /** One line for a log: what is used, or why not. */
    String describe();

    /**
     * io_uring works in this process.
     *
     * @param features   the {@code IORING_FEAT_*} bits of {@code io_uring_params.features}
     * @param setupFlags the {@code IORING_SETUP_*} bits every ring opened here is set up with: those of
     *                   {@code COOP_TASKRUN}, {@code SINGLE_ISSUER} and {@code DEFER_TASKRUN} that the kernel
     *                   accepted (a ring's one platform thread is its only submitter, so they all fit)
     * @param opcodes    the opcodes the kernel supports ({@code IORING_REGISTER_PROBE}), a superset of those this
     *                   package uses
     * @param kernel     the kernel release
     */
    record Available(int features, int setupFlags, Set<Integer> opcodes, String kernel) implements UringSupport {
        public Available {
            opcodes = Set.copyOf(opcodes);
        }

        /**
         * Opens a ring of at least {@code entries} submission entries (rounded up to a power of two by the kernel;
         * one is kept for the ring's own wake-ups) and starts its platform thread, named "uring-" + {@code name}.
         *
         * @throws IOException when the kernel refuses the ring (for example {@link Errno#ENOMEM})
         */
        public Uring open(String name, int entries) throws IOException {
            return new Uring(name, entries, setupFlags);
        }

        @Override
        public String describe() {
            return "io_uring on kernel " + kernel + " (features 0x" + Integer.toHexString(features) + ", "
                    + opcodes.size() + " opcodes, setup flags: " + UringLayouts.setupFlagNames(setupFlags) + ")";
        }
    }

    /** io_uring cannot be used here; {@code reason} says why, for the log. */
    record Unavailable(String reason) implements UringSupport {
        @Override
        public String describe() {
            return "io_uring unavailable: " + reason;
        }
    }
}
