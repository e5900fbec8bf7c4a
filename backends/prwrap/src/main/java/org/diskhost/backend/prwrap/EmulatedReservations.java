package org.diskhost.backend.prwrap;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import org.diskhost.api.DiskException;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.RegisteredController;
import org.diskhost.api.pr.ReservationCapabilities;
import org.diskhost.api.pr.ReservationReport;
import org.diskhost.api.pr.ReservationType;

/**
 * Persistent reservations emulated in memory for one initiator, as the reference's {@code prwrap} does: one
 * registration slot, one reservation, a generation counter. Reservations are not enforced on I/O. Thread-safe; every
 * call completes at once.
 */
final class EmulatedReservations implements PersistentReservation {
    /** WE, EA, WE-RO and EA-RO; not the all-registrants types; PTPL (reported, though the state lives in memory). */
    static final ReservationCapabilities CAPABILITIES =
            new ReservationCapabilities(true, true, true, true, false, false, true);

    /** The report's host id of the one registrant: eight zero bytes. */
    private static final byte[] HOST_ID = new byte[8];

    private ReservationState state;

    EmulatedReservations() {
        this(ReservationState.INITIAL);
    }

    EmulatedReservations(ReservationState initial) {
        this.state = Objects.requireNonNull(initial, "initial");
    }

    /** The current state, for diagnostics and tests. */
    synchronized ReservationState state() {
        return state;
    }

    @Override
    public ReservationCapabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public CompletableFuture<ReservationReport> report() {
        ReservationState s = state();
        List<RegisteredController> controllers = s.isRegistered()
                ? List.of(new RegisteredController(s.key(), HOST_ID, 0, s.reservation().isPresent()))
                : List.of();
        return CompletableFuture.completedFuture(
                new ReservationReport(s.generation(), s.reservation(), s.persistThroughPowerLoss(), controllers));
    }

    @Override
    public CompletableFuture<Void> register(OptionalLong currentKey, long newKey,
            Optional<Boolean> persistThroughPowerLoss) {
        Objects.requireNonNull(currentKey, "currentKey");
        Objects.requireNonNull(persistThroughPowerLoss, "persistThroughPowerLoss");
        return apply(s -> s.register(currentKey, newKey, persistThroughPowerLoss));
    }

    @Override
    public CompletableFuture<Void> reserve(long key, ReservationType type) {
        Objects.requireNonNull(type, "type");
        return apply(s -> s.reserve(key, type));
    }

    @Override
    public CompletableFuture<Void> release(long key, ReservationType type) {
        Objects.requireNonNull(type, "type");
        return apply(s -> s.release(key, type));
    }

    @Override
    public CompletableFuture<Void> clear(long key) {
        return apply(s -> s.clear(key));
    }

    @Override
    public CompletableFuture<Void> preempt(long currentKey, long preemptKey, ReservationType type, boolean abort) {
        Objects.requireNonNull(type, "type");
        return apply(s -> s.preempt(currentKey, preemptKey, type, abort));
    }

    private CompletableFuture<Void> apply(Function<ReservationState, ReservationState.Outcome> transition) {
        ReservationState.Outcome outcome;
        synchronized (this) {
            outcome = transition.apply(state);
            if (outcome instanceof ReservationState.Outcome.Next(ReservationState next)) {
                state = next;
            }
        }
        return switch (outcome) {
            case ReservationState.Outcome.Next next -> CompletableFuture.completedFuture(null);
            case ReservationState.Outcome.Refused(var error) -> DiskException.failed(error);
        };
    }
}
