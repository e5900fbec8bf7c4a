package org.diskhost.backend.prwrap;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

import org.diskhost.api.DiskError;
import org.diskhost.api.pr.ReservationType;

/**
 * The state of the single-initiator reservation emulation, and its transitions (reference section 3.2). Each
 * transition is a pure function: it returns the next state, or the error that refuses the request.
 *
 * @param generation a 32-bit counter that wraps; it counts registration changes (register, clear, preempt)
 * @param key the registered key; 0 means nothing is registered
 * @param reservation the held reservation's type, if any
 * @param persistThroughPowerLoss the APTPL state last given to {@link #register}
 */
record ReservationState(int generation, long key, Optional<ReservationType> reservation,
        boolean persistThroughPowerLoss) {

    /** Nothing registered, nothing reserved, generation 0. */
    static final ReservationState INITIAL = new ReservationState(0, 0, Optional.empty(), false);

    ReservationState {
        Objects.requireNonNull(reservation, "reservation");
    }

    /** What a transition gives: the next state, or a refusal. */
    sealed interface Outcome {
        record Next(ReservationState state) implements Outcome {
        }

        record Refused(DiskError error) implements Outcome {
        }
    }

    boolean isRegistered() {
        return key != 0;
    }

    /** True when a reservation is held and its type is not {@code type}. */
    private boolean holdsOtherThan(ReservationType type) {
        return reservation.isPresent() && reservation.get() != type;
    }

    /** True when {@code key} may act: something is registered and it is that key. */
    private boolean isHolder(long key) {
        return isRegistered() && key == this.key;
    }

    private static Outcome conflict() {
        return new Outcome.Refused(new DiskError.ReservationConflict());
    }

    private static Outcome invalidInput() {
        return new Outcome.Refused(new DiskError.InvalidInput());
    }

    /**
     * A present {@code currentKey} must equal the registered key (no registration counts as key 0); an absent one
     * forces the registration. The key becomes {@code newKey} (0 unregisters and drops the reservation); a present
     * {@code ptpl} is stored. Generation + 1.
     */
    Outcome register(OptionalLong currentKey, long newKey, Optional<Boolean> ptpl) {
        if (currentKey.isPresent() && currentKey.getAsLong() != key) {
            return conflict();
        }
        return new Outcome.Next(new ReservationState(generation + 1, newKey,
                newKey == 0 ? Optional.empty() : reservation, ptpl.orElse(persistThroughPowerLoss)));
    }

    /**
     * Conflict unless {@code key} is the registered key and no reservation of another type is held; then the
     * reservation is {@code type} (re-reserving the same type succeeds). Generation unchanged.
     */
    Outcome reserve(long key, ReservationType type) {
        if (!isHolder(key) || holdsOtherThan(type)) {
            return conflict();
        }
        return new Outcome.Next(new ReservationState(generation, this.key, Optional.of(type), persistThroughPowerLoss));
    }

    /**
     * Conflict unless {@code key} is the registered key; {@code InvalidInput} if a reservation of another type is
     * held; otherwise no reservation remains (releasing none is a no-op). Generation unchanged.
     */
    Outcome release(long key, ReservationType type) {
        if (!isHolder(key)) {
            return conflict();
        }
        if (holdsOtherThan(type)) {
            return invalidInput();
        }
        return new Outcome.Next(new ReservationState(generation, this.key, Optional.empty(), persistThroughPowerLoss));
    }

    /** Conflict unless {@code key} is the registered key; then registration and reservation go. Generation + 1. */
    Outcome clear(long key) {
        if (!isHolder(key)) {
            return conflict();
        }
        return new Outcome.Next(new ReservationState(generation + 1, 0, Optional.empty(), persistThroughPowerLoss));
    }

    /**
     * Conflict unless {@code currentKey} is the registered key; {@code InvalidInput} if {@code preemptKey} is not the
     * registered key (the only registrant) or a reservation of another type is held; otherwise the reservation is
     * cleared and the registration kept. Generation + 1. {@code abort} changes nothing: no commands are tracked.
     */
    Outcome preempt(long currentKey, long preemptKey, ReservationType type, boolean abort) {
        if (!isHolder(currentKey)) {
            return conflict();
        }
        if (preemptKey != key || holdsOtherThan(type)) {
            return invalidInput();
        }
        return new Outcome.Next(new ReservationState(generation + 1, key, Optional.empty(), persistThroughPowerLoss));
    }

    /** The handover format of the emulation's state. Version 1: generation, key, reservation type, PTPL. */
    static final String HANDOVER_FORMAT = "org.diskhost.prwrap";
    private static final int HANDOVER_VERSION = 1;

    /** This state for the prwrap disk that replaces this one when the chain is rebuilt. */
    org.diskhost.api.handover.HandoverState export() {
        java.util.Map<String, Object> values = new java.util.HashMap<>(java.util.Map.of("generation", generation,
                "key", key, "persistThroughPowerLoss", persistThroughPowerLoss));
        reservation.ifPresent(type -> values.put("reservation", type.name()));
        return new org.diskhost.api.handover.HandoverState(HANDOVER_FORMAT, HANDOVER_VERSION, values);
    }

    /**
     * The state a predecessor {@linkplain #export() exported}.
     *
     * @throws IllegalArgumentException when it is not a prwrap state this version reads
     */
    static ReservationState restore(org.diskhost.api.handover.HandoverState state) {
        state.require(HANDOVER_FORMAT, HANDOVER_VERSION);
        Optional<ReservationType> reservation = state.has("reservation")
                ? Optional.of(ReservationType.valueOf(state.string("reservation"))) : Optional.empty();
        return new ReservationState(state.integer("generation"), state.number("key"), reservation,
                state.bool("persistThroughPowerLoss"));
    }
}
