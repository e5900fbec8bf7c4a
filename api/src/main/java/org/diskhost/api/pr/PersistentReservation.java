package org.diskhost.api.pr;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Persistent reservations of a disk, following SCSI semantics. Failures complete the future with a
 * {@link org.diskhost.api.DiskException}: {@link org.diskhost.api.DiskError.ReservationConflict} for a key that
 * does not match, {@link org.diskhost.api.DiskError.InvalidInput} for parameters that do not fit the state (such as
 * a type that differs from the held reservation's).
 */
@ConsumerType
public interface PersistentReservation {

    /** What the disk supports. */
    ReservationCapabilities capabilities();

    /** The current registrations and reservation. */
    CompletableFuture<ReservationReport> report();

    /**
     * Registers, replaces or (with {@code newKey == 0}) removes this initiator's key.
     *
     * @param currentKey the key the caller believes is registered; absent forces the registration (SCSI REGISTER AND
     *        IGNORE EXISTING KEY). A present key that does not match fails with {@code ReservationConflict}.
     * @param persistThroughPowerLoss a new persist-through-power-loss state, or absent to keep it
     */
    CompletableFuture<Void> register(OptionalLong currentKey, long newKey, Optional<Boolean> persistThroughPowerLoss);

    /** Takes a reservation of {@code type} with the registered {@code key}. */
    CompletableFuture<Void> reserve(long key, ReservationType type);

    /** Releases the reservation of {@code type} held with {@code key}. */
    CompletableFuture<Void> release(long key, ReservationType type);

    /** Clears the reservation and every registration. */
    CompletableFuture<Void> clear(long key);

    /**
     * Preempts the registration and reservation of {@code preemptKey}, taking a reservation of {@code type};
     * {@code abort} also aborts the preempted initiator's commands (PREEMPT AND ABORT).
     */
    CompletableFuture<Void> preempt(long currentKey, long preemptKey, ReservationType type, boolean abort);
}
