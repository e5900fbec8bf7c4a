package org.diskhost.backend.prwrap;

import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import org.diskhost.api.DiskError;
import org.diskhost.api.pr.RegisteredController;
import org.diskhost.api.pr.ReservationCapabilities;
import org.diskhost.api.pr.ReservationReport;
import org.diskhost.api.pr.ReservationType;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every rule of the reference's reservation emulation (section 3.2), through the public interface. */
class ReservationRulesTest {
    private static final long KEY = 0xA1L;
    private static final long OTHER = 0xB2L;
    private static final ReservationType WE = ReservationType.WRITE_EXCLUSIVE;
    private static final ReservationType EA = ReservationType.EXCLUSIVE_ACCESS;

    private final EmulatedReservations pr = new EmulatedReservations();

    private ReservationReport report() {
        return succeeds(pr.report());
    }

    private int generation() {
        return report().generation();
    }

    private void registered(long key) {
        succeeds(pr.register(OptionalLong.empty(), key, Optional.empty()));
    }

    private void reserved(long key, ReservationType type) {
        registered(key);
        succeeds(pr.reserve(key, type));
    }

    @Test
    void capabilitiesAreTheFourBasicTypesAndPtpl() {
        ReservationCapabilities c = pr.capabilities();
        assertTrue(c.writeExclusive());
        assertTrue(c.exclusiveAccess());
        assertTrue(c.writeExclusiveRegistrantsOnly());
        assertTrue(c.exclusiveAccessRegistrantsOnly());
        assertFalse(c.writeExclusiveAllRegistrants());
        assertFalse(c.exclusiveAccessAllRegistrants());
        assertTrue(c.persistThroughPowerLoss());
    }

    @Nested
    class Report {
        @Test
        void startsEmptyAtGenerationZero() {
            assertEquals(new ReservationReport(0, Optional.empty(), false, List.of()), report());
        }

        @Test
        void listsTheOneRegistrantWithZeroHostIdAndController0() {
            registered(KEY);
            RegisteredController c = report().controllers().getFirst();
            assertEquals(1, report().controllers().size());
            assertEquals(KEY, c.key());
            assertArrayEquals(new byte[8], c.hostId());
            assertEquals(0, c.controllerId());
            assertFalse(c.holdsReservation());
        }

        @Test
        void theRegistrantHoldsTheReservationOnceReserved() {
            reserved(KEY, EA);
            ReservationReport r = report();
            assertEquals(Optional.of(EA), r.reservationType());
            assertTrue(r.controllers().getFirst().holdsReservation());
        }
    }

    @Nested
    class Register {
        @Test
        void withoutACurrentKeyItForcesTheRegistrationAndCountsAGeneration() {
            registered(KEY);
            assertEquals(1, generation());
            registered(OTHER); // replaces, no current key needed
            assertEquals(OTHER, report().controllers().getFirst().key());
            assertEquals(2, generation());
        }

        @Test
        void aMatchingCurrentKeyReplacesTheKey() {
            registered(KEY);
            succeeds(pr.register(OptionalLong.of(KEY), OTHER, Optional.empty()));
            assertEquals(OTHER, report().controllers().getFirst().key());
            assertEquals(2, generation());
        }

        @Test
        void aWrongCurrentKeyConflictsAndChangesNothing() {
            registered(KEY);
            failsWith(DiskError.ReservationConflict.class, pr.register(OptionalLong.of(OTHER), 7, Optional.empty()));
            assertEquals(KEY, report().controllers().getFirst().key());
            assertEquals(1, generation());
        }

        @Test
        void noRegistrationComparesEqualToKeyZero() {
            succeeds(pr.register(OptionalLong.of(0), KEY, Optional.empty()));
            assertEquals(KEY, report().controllers().getFirst().key());
            failsWith(DiskError.ReservationConflict.class,
                    new EmulatedReservations().register(OptionalLong.of(KEY), OTHER, Optional.empty()));
        }

        @Test
        void newKeyZeroUnregistersAndDropsTheReservation() {
            reserved(KEY, WE);
            succeeds(pr.register(OptionalLong.of(KEY), 0, Optional.empty()));
            ReservationReport r = report();
            assertTrue(r.controllers().isEmpty());
            assertEquals(Optional.empty(), r.reservationType());
            assertEquals(2, r.generation());
        }

        @Test
        void aKeyChangeKeepsTheReservation() {
            reserved(KEY, WE);
            succeeds(pr.register(OptionalLong.of(KEY), OTHER, Optional.empty()));
            assertEquals(Optional.of(WE), report().reservationType());
        }

        @Test
        void ptplIsStoredWhenGivenAndKeptWhenAbsent() {
            succeeds(pr.register(OptionalLong.empty(), KEY, Optional.of(true)));
            assertTrue(report().persistThroughPowerLoss());
            succeeds(pr.register(OptionalLong.of(KEY), KEY, Optional.empty()));
            assertTrue(report().persistThroughPowerLoss());
            succeeds(pr.register(OptionalLong.of(KEY), KEY, Optional.of(false)));
            assertFalse(report().persistThroughPowerLoss());
        }

        @Test
        void theGenerationWrapsAt32Bits() {
            EmulatedReservations near = new EmulatedReservations(
                    new ReservationState(-1, 0, Optional.empty(), false)); // 0xFFFFFFFF
            succeeds(near.register(OptionalLong.empty(), KEY, Optional.empty()));
            assertEquals(0, succeeds(near.report()).generation());
        }
    }

    @Nested
    class Reserve {
        @Test
        void theRegisteredKeyReservesWithoutAGenerationChange() {
            registered(KEY);
            succeeds(pr.reserve(KEY, WE));
            assertEquals(Optional.of(WE), report().reservationType());
            assertEquals(1, generation());
        }

        @Test
        void conflictsWhenNothingIsRegistered() {
            failsWith(DiskError.ReservationConflict.class, pr.reserve(KEY, WE));
            failsWith(DiskError.ReservationConflict.class, pr.reserve(0, WE));
        }

        @Test
        void conflictsForAnotherKey() {
            registered(KEY);
            failsWith(DiskError.ReservationConflict.class, pr.reserve(OTHER, WE));
            assertEquals(Optional.empty(), report().reservationType());
        }

        @Test
        void conflictsWhenAReservationOfAnotherTypeIsHeld() {
            reserved(KEY, WE);
            failsWith(DiskError.ReservationConflict.class, pr.reserve(KEY, EA));
            assertEquals(Optional.of(WE), report().reservationType());
        }

        @Test
        void reReservingTheSameTypeSucceeds() {
            reserved(KEY, WE);
            succeeds(pr.reserve(KEY, WE));
            assertEquals(Optional.of(WE), report().reservationType());
            assertEquals(1, generation());
        }
    }

    @Nested
    class Release {
        @Test
        void releasesWithoutAGenerationChange() {
            reserved(KEY, EA);
            succeeds(pr.release(KEY, EA));
            assertEquals(Optional.empty(), report().reservationType());
            assertEquals(1, generation());
            assertEquals(KEY, report().controllers().getFirst().key(), "the registration stays");
        }

        @Test
        void conflictsWhenNothingIsRegistered() {
            failsWith(DiskError.ReservationConflict.class, pr.release(KEY, WE));
        }

        @Test
        void conflictsForAnotherKey() {
            reserved(KEY, WE);
            failsWith(DiskError.ReservationConflict.class, pr.release(OTHER, WE));
            assertEquals(Optional.of(WE), report().reservationType());
        }

        @Test
        void anotherTypeThanTheHeldOneIsInvalidInput() {
            reserved(KEY, WE);
            failsWith(DiskError.InvalidInput.class, pr.release(KEY, EA));
            assertEquals(Optional.of(WE), report().reservationType());
        }

        @Test
        void withoutAReservationItIsASuccessfulNoOp() {
            registered(KEY);
            succeeds(pr.release(KEY, EA));
            assertEquals(Optional.empty(), report().reservationType());
            assertEquals(1, generation());
        }
    }

    @Nested
    class Clear {
        @Test
        void removesRegistrationAndReservationAndCountsAGeneration() {
            reserved(KEY, WE);
            succeeds(pr.clear(KEY));
            ReservationReport r = report();
            assertTrue(r.controllers().isEmpty());
            assertEquals(Optional.empty(), r.reservationType());
            assertEquals(2, r.generation());
        }

        @Test
        void conflictsWhenNothingIsRegistered() {
            failsWith(DiskError.ReservationConflict.class, pr.clear(0));
            failsWith(DiskError.ReservationConflict.class, pr.clear(KEY));
            assertEquals(0, generation());
        }

        @Test
        void conflictsForAnotherKey() {
            reserved(KEY, WE);
            failsWith(DiskError.ReservationConflict.class, pr.clear(OTHER));
            assertEquals(KEY, report().controllers().getFirst().key());
            assertEquals(1, generation());
        }
    }

    @Nested
    class Preempt {
        @Test
        void clearsTheReservationKeepsTheRegistrationAndCountsAGeneration() {
            reserved(KEY, WE);
            succeeds(pr.preempt(KEY, KEY, WE, false));
            ReservationReport r = report();
            assertEquals(Optional.empty(), r.reservationType());
            assertEquals(KEY, r.controllers().getFirst().key());
            assertEquals(2, r.generation());
        }

        @Test
        void withoutAReservationItStillCountsAGeneration() {
            registered(KEY);
            succeeds(pr.preempt(KEY, KEY, EA, false));
            assertEquals(2, generation());
        }

        @Test
        void abortChangesNothingElse() {
            reserved(KEY, EA);
            succeeds(pr.preempt(KEY, KEY, EA, true));
            assertEquals(Optional.empty(), report().reservationType());
            assertEquals(KEY, report().controllers().getFirst().key());
            assertEquals(2, generation());
        }

        @Test
        void conflictsWhenNothingIsRegistered() {
            failsWith(DiskError.ReservationConflict.class, pr.preempt(0, 0, WE, false));
        }

        @Test
        void conflictsForAnotherCurrentKey() {
            reserved(KEY, WE);
            failsWith(DiskError.ReservationConflict.class, pr.preempt(OTHER, KEY, WE, false));
            assertEquals(Optional.of(WE), report().reservationType());
        }

        @Test
        void aPreemptKeyThatIsNotRegisteredIsInvalidInput() {
            reserved(KEY, WE);
            failsWith(DiskError.InvalidInput.class, pr.preempt(KEY, OTHER, WE, false));
            assertEquals(Optional.of(WE), report().reservationType());
            assertEquals(1, generation());
        }

        @Test
        void anotherTypeThanTheHeldOneIsInvalidInput() {
            reserved(KEY, WE);
            failsWith(DiskError.InvalidInput.class, pr.preempt(KEY, KEY, EA, false));
            assertEquals(Optional.of(WE), report().reservationType());
            assertEquals(1, generation());
        }
    }

    @Test
    void aScsiStyleSequenceEndsWhereExpected() {
        // REGISTER, RESERVE, REGISTER (new key), RELEASE, PREEMPT, CLEAR
        succeeds(pr.register(OptionalLong.of(0), KEY, Optional.of(true)));
        succeeds(pr.reserve(KEY, ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
        succeeds(pr.register(OptionalLong.of(KEY), OTHER, Optional.empty()));
        failsWith(DiskError.ReservationConflict.class, pr.release(KEY, ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
        succeeds(pr.release(OTHER, ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
        succeeds(pr.reserve(OTHER, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY));
        succeeds(pr.preempt(OTHER, OTHER, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, true));
        assertEquals(new ReservationReport(3, Optional.empty(), true,
                List.of(new RegisteredController(OTHER, new byte[8], 0, false))), report());
        succeeds(pr.clear(OTHER));
        assertEquals(new ReservationReport(4, Optional.empty(), true, List.of()), report());
    }
}
