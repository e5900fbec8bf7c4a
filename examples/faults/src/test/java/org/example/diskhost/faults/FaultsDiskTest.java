package org.example.diskhost.faults;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.MediumErrorDetails;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each fault fires exactly as its settings say: operation, error variant, range, rate and trigger file. */
class FaultsDiskTest {
    @TempDir
    Path dir;

    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final List<ResolvedChain> chains = new ArrayList<>();

    @AfterEach
    void close() {
        chains.forEach(ResolvedChain::close);
    }

    /** A faults disk with {@code settings} over a 256-sector memory disk with id "below". */
    private Disk open(Object... settings) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", "faults");
        for (int i = 0; i < settings.length; i += 2) {
            spec.put((String) settings[i], settings[i + 1]);
        }
        spec.put("disk", Map.of("kind", "memory", "id", "below"));
        ResolvedChain chain = StandaloneResolution.of(dir, memory, new FaultsDiskResolver()).resolve("d", spec, false)
                .join();
        chains.add(chain);
        return chain.disk();
    }

    private static CompletableFuture<Void> read(Disk disk, long sector, int sectors) {
        return disk.readVectored(RequestBuffers.of(allocate(sectors * 512L), true), sector);
    }

    private static CompletableFuture<Void> write(Disk disk, long sector, int sectors) {
        return disk.writeVectored(RequestBuffers.of(pattern(sectors * 512L, sector), false), sector, false);
    }

    @Test
    void readsFailWithIoAndNothingElseByDefaultOps() {
        Disk disk = open("ops", "read");
        DiskError error = fails(read(disk, 0, 8));
        DiskError.Io io = assertInstanceOf(DiskError.Io.class, error);
        assertEquals("injected read fault", io.cause().getMessage());
        succeeds(write(disk, 0, 8));
        succeeds(disk.syncCache());
        succeeds(disk.unmap(0, 8, false));
    }

    @Test
    void everyOperationFailsWhenAllAreChosen() {
        Disk disk = open(); // ops default: all four
        fails(read(disk, 3, 1));
        fails(write(disk, 3, 1));
        fails(disk.syncCache());
        fails(disk.unmap(3, 1, false));
    }

    @Test
    void aFailedWriteNeverReachesTheDiskBelow() {
        Disk disk = open("ops", List.of("write"));
        fails(write(disk, 5, 2));
        MemorySegment below = memory.disk("below").content();
        assertTrue(below.asSlice(5 * 512L, 1024).mismatch(MemorySegment.ofArray(new byte[1024])) == -1,
                "the disk below still reads zeros");
    }

    @ParameterizedTest
    @CsvSource({
        "io, Io",
        "medium, MediumError",
        "readOnly, ReadOnly",
        "reservationConflict, ReservationConflict",
        "invalidInput, InvalidInput",
        "illegalBlock, IllegalBlock",
        "aborted, AbortDueToPreemptAndAbort",
        "memoryAccess, MemoryAccess"})
    void eachErrorNameIsItsDiskErrorVariant(String name, String variant) {
        Disk disk = open("error", name, "ops", "write");
        assertEquals(variant, fails(write(disk, 0, 1)).getClass().getSimpleName());
    }

    @Test
    void mediumErrorsCarryTheChosenDetail() {
        assertEquals(MediumErrorDetails.UNRECOVERED_READ_ERROR, assertInstanceOf(DiskError.MediumError.class,
                fails(read(open("error", "medium"), 0, 1))).details());
        assertEquals(MediumErrorDetails.WRITE_FAULT, assertInstanceOf(DiskError.MediumError.class,
                fails(write(open("error", "medium", "medium", "writeFault"), 0, 1))).details());
        assertEquals(MediumErrorDetails.GUARD_CHECK_FAILED, assertInstanceOf(DiskError.MediumError.class,
                fails(read(open("error", "medium", "medium", "guardCheckFailed"), 0, 1))).details());
    }

    @Test
    void onlyRequestsTouchingTheRangeFail() {
        Disk disk = open("from", 10, "count", 5); // sectors 10..14
        succeeds(read(disk, 0, 10));
        succeeds(write(disk, 8, 2));
        fails(read(disk, 9, 2)); // touches 10
        fails(read(disk, 10, 1));
        fails(write(disk, 14, 1));
        fails(write(disk, 0, 64)); // covers the whole range
        succeeds(read(disk, 15, 8));
        succeeds(write(disk, 15, 1));
        fails(disk.unmap(12, 100, false));
        succeeds(disk.unmap(15, 100, false));
        succeeds(disk.unmap(0, 10, false));
        fails(disk.syncCache()); // a flush has no range
    }

    @Test
    void withoutCountTheRangeRunsToTheEndOfTheDisk() {
        Disk disk = open("from", 200);
        succeeds(read(disk, 0, 200));
        fails(read(disk, 255, 1));
    }

    @Test
    void aRequestPastTheEndIsRefusedByTheDiskBelowNotFaulted() {
        Disk disk = open("from", 250);
        assertInstanceOf(DiskError.IllegalBlock.class, fails(read(disk, 255, 2)));
        assertInstanceOf(DiskError.IllegalBlock.class, fails(disk.unmap(250, 7, false)));
        assertInstanceOf(DiskError.Io.class, fails(read(disk, 255, 1)));
    }

    @Test
    void rateZeroNeverFailsAndRateOneAlwaysDoes() {
        Disk never = open("rate", 0);
        Disk always = open("rate", 1);
        for (int i = 0; i < 500; i++) {
            succeeds(read(never, i % 256, 1));
            fails(read(always, i % 256, 1));
        }
    }

    @Test
    void aRateFailsThatShareOfRequests() {
        Disk disk = open("rate", "25%", "ops", "read");
        int failed = 0;
        for (int i = 0; i < 4000; i++) {
            try {
                read(disk, i % 256, 1).join();
            } catch (CompletionException e) {
                assertInstanceOf(DiskException.class, e.getCause());
                failed++;
            }
        }
        // Binomial(4000, 0.25): mean 1000, standard deviation 27; these bounds are more than 7 deviations away.
        assertTrue(failed > 800 && failed < 1200, failed + " of 4000 reads failed at rate 25%");
    }

    @Test
    void faultsFireOnlyWhileTheTriggerFileExists() throws Exception {
        Disk disk = open("file", "trigger");
        succeeds(read(disk, 0, 1));
        Files.createFile(dir.resolve("trigger"));
        fails(read(disk, 0, 1));
        Files.delete(dir.resolve("trigger"));
        succeeds(read(disk, 0, 1));
    }

    @Test
    void inspectShowsTheRuleAndCountsWhatItInjected() {
        Disk disk = open("ops", "read,unmap", "from", 4, "count", 2, "error", "readOnly");
        fails(read(disk, 4, 1));
        fails(read(disk, 5, 1));
        fails(disk.unmap(4, 1, false));
        succeeds(read(disk, 0, 1));
        String tree = InspectTree.of(disk).toString();
        for (String expected : List.of("ops", "[read, unmap]", "readOnly", "injected_read", "injected_unmap",
                "faults_from", "spec")) {
            assertTrue(tree.contains(expected), expected + " in\n" + tree);
        }
    }

    private String refusal(Object... settings) {
        ResolveException e = assertThrows(ResolveException.class, () -> {
            try {
                open(settings);
            } catch (CompletionException c) {
                Throwable cause = c;
                while (cause instanceof CompletionException && cause.getCause() != null) {
                    cause = cause.getCause();
                }
                throw cause;
            }
        });
        return e.getMessage();
    }

    @Test
    void badSettingsAreRefusedNamingTheDiskTheKindAndTheSetting() {
        assertTrue(refusal("error", "eio").startsWith("disk 'd', kind 'faults', setting 'error': unknown error \"eio\""),
                refusal("error", "eio"));
        assertTrue(refusal("rate", 1.5).contains("setting 'rate': must be between 0 and 1"), refusal("rate", 1.5));
        assertTrue(refusal("rate", "often").contains("setting 'rate': must be a probability"));
        assertTrue(refusal("ops", "read,reed").contains("setting 'ops': unknown operation \"reed\""));
        assertTrue(refusal("ops", "").contains("setting 'ops': must name at least one"));
        assertTrue(refusal("count", 0).contains("setting 'count': must be at least 1 sector"));
        assertTrue(refusal("from", -1).contains("setting 'from': must not be negative"));
        assertTrue(refusal("from", 256).contains("setting 'from': sector 256 is beyond the disk below, which has 256"),
                refusal("from", 256));
        assertTrue(refusal("medium", "bad").contains("setting 'medium': unknown medium \"bad\" (known: "
                + "applicationTagCheckFailed, guardCheckFailed, referenceTagCheckFailed, unrecoveredReadError, "
                + "writeFault)"), refusal("medium", "bad"));
        assertTrue(refusal("rates", 1).contains("setting 'rates': unknown setting for kind 'faults'"));
    }
}
