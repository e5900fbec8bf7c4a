package org.diskhost.frontend.nbd;

import java.util.Locale;

import org.diskhost.api.DiskError;

/**
 * The error values of NBD replies, and how a {@link DiskError} becomes one. The table (also in the README):
 *
 * <table>
 * <caption>DiskError to NBD error</caption>
 * <tr><th>DiskError</th><th>NBD error</th><th>why</th></tr>
 * <tr><td>IllegalBlock</td><td>ENOSPC for writes and write-zeroes, EINVAL otherwise</td><td>the protocol's rule
 * for requests past the end</td></tr>
 * <tr><td>ReadOnly</td><td>EPERM</td><td>the protocol's rule for writes to a read-only export</td></tr>
 * <tr><td>InvalidInput</td><td>EINVAL</td><td></td></tr>
 * <tr><td>ReservationConflict</td><td>EPERM</td><td>another initiator holds the reservation: not permitted</td></tr>
 * <tr><td>Io, caused by ENOSPC, EDQUOT or EFBIG</td><td>ENOSPC</td><td>the protocol asks for these to be mapped</td></tr>
 * <tr><td>Io, MediumError, MemoryAccess, AbortDueToPreemptAndAbort</td><td>EIO</td><td>the data did not move</td></tr>
 * <tr><td>UnsupportedEject</td><td>ENOTSUP</td><td>(no NBD command ejects)</td></tr>
 * </table>
 */
enum NbdError {
    EPERM(1), EIO(5), ENOMEM(12), EINVAL(22), ENOSPC(28), EOVERFLOW(75), ENOTSUP(95), ESHUTDOWN(108);

    final int code;

    NbdError(int code) {
        this.code = code;
    }

    /** The error to report for {@code error}, which failed a request that wrote ({@code writing}) or not. */
    static NbdError of(DiskError error, boolean writing) {
        return switch (error) {
            case DiskError.IllegalBlock b -> writing ? ENOSPC : EINVAL;
            case DiskError.ReadOnly r -> EPERM;
            case DiskError.InvalidInput i -> EINVAL;
            case DiskError.ReservationConflict c -> EPERM;
            case DiskError.Io io -> isOutOfSpace(io.cause()) ? ENOSPC : EIO;
            case DiskError.MediumError m -> EIO;
            case DiskError.MemoryAccess m -> EIO;
            case DiskError.AbortDueToPreemptAndAbort a -> EIO;
            case DiskError.UnsupportedEject e -> ENOTSUP;
        };
    }

    /** Whether the cause chain says the backing store is full (strerror texts of ENOSPC, EDQUOT, EFBIG). */
    private static boolean isOutOfSpace(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null) {
                String m = message.toLowerCase(Locale.ROOT);
                if (m.contains("no space left") || m.contains("quota exceeded") || m.contains("file too large")) {
                    return true;
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
