package org.diskhost.backend.prwrap;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;

/**
 * Kind {@code prwrap}: the disk below with emulated persistent reservations ({@link EmulatedReservations}). Every
 * I/O and all metadata pass through unchanged, and reservations are not enforced on them. Like the reference, it
 * does not forward eject (fails with {@code UnsupportedEject}); unlike the reference, it forwards
 * {@link #waitResize}, since its sector count is the inner disk's.
 */
final class ReservationDisk extends ForwardingDiskIo {
    private final EmulatedReservations reservations;

    ReservationDisk(Disk inner, EmulatedReservations reservations) {
        super(inner);
        this.reservations = Objects.requireNonNull(reservations, "reservations");
    }

    @Override
    public String diskType() {
        return PrWrapDiskResolver.KIND;
    }

    /** This decorator's own reservations; any reservation support below is hidden. */
    @Override
    public Optional<PersistentReservation> pr() {
        return Optional.of(reservations);
    }

    @Override
    public CompletableFuture<Void> eject() {
        return DiskException.failed(new DiskError.UnsupportedEject());
    }

    @Override
    public void inspect(Inspector out) {
        ReservationState s = reservations.state();
        out.value("pr_generation", Integer.toUnsignedLong(s.generation()))
                .value("pr_registered_key", s.isRegistered() ? "0x" + Long.toHexString(s.key()) : null)
                .value("pr_reservation", s.reservation().orElse(null))
                .value("pr_ptpl", s.persistThroughPowerLoss());
        super.inspect(out);
    }
}
