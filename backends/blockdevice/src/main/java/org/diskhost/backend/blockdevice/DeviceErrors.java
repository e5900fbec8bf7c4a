package org.diskhost.backend.blockdevice;

import java.util.OptionalInt;
import java.util.concurrent.CompletionException;

import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.nativeio.ioctl.Errnos;
import org.diskhost.nativeio.ioctl.NvmePassthrough;
import org.diskhost.nativeio.libc.ErrnoException;

/**
 * The reference's errno → {@link DiskError} table, applied to block devices only (on a regular file every failure
 * is {@link DiskError.Io}):
 *
 * <table>
 * <caption>errno to DiskError</caption>
 * <tr><th>errno</th><th>DiskError</th></tr>
 * <tr><td>EBADE (a reservation conflict, as the kernel reports one for SCSI and NVMe)</td>
 * <td>{@link DiskError.ReservationConflict}</td></tr>
 * <tr><td>ENOSPC (a write past the end of the device)</td><td>{@link DiskError.IllegalBlock}</td></tr>
 * <tr><td>anything else</td><td>{@link DiskError.Io}, carrying the errno's text</td></tr>
 * </table>
 *
 * An NVMe passthrough command that completes with Reservation Conflict counts as EBADE.
 */
final class DeviceErrors {
    private DeviceErrors() {
    }

    /** The failure as the disk reports it; {@code where} names the device for the log. */
    static DiskException of(Throwable failure, Device.Kind kind, String where) {
        Throwable t = failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
        if (t instanceof DiskException e) {
            return e;
        }
        if (kind == Device.Kind.BLOCK_DEVICE) {
            OptionalInt errno = errno(t);
            if (errno.isPresent() && errno.getAsInt() == Errnos.EBADE) {
                return new DiskException(new DiskError.ReservationConflict(), where);
            }
            if (errno.isPresent() && errno.getAsInt() == Errnos.ENOSPC) {
                return new DiskException(new DiskError.IllegalBlock(), where);
            }
        }
        return new DiskException(new DiskError.Io(t), where);
    }

    /** The Linux error number behind {@code failure}, where it carries one. */
    static OptionalInt errno(Throwable failure) {
        return switch (failure) {
            case ErrnoException e -> OptionalInt.of(e.errno()); // io_uring's UringException too
            case NvmePassthrough.NvmeStatusException s when s.reservationConflict() -> OptionalInt.of(Errnos.EBADE);
            default -> OptionalInt.empty();
        };
    }
}
