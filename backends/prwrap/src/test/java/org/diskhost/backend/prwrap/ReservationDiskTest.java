package org.diskhost.backend.prwrap;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.handover.Handover;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.ReservationType;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.MemoryDisk;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Test;

class ReservationDiskTest {
    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final PrWrapDiskResolver resolver = new PrWrapDiskResolver();
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), memory, resolver);

    private ResolvedChain resolve(Map<String, Object> config) {
        return resolution.resolve("pr", config, false).join();
    }

    private static Map<String, Object> prOverMemory(String id) {
        return Map.of("kind", "prwrap", "disk", Map.of("kind", "memory", "id", id));
    }

    private ResolveError resolveError(Map<String, Object> config) {
        CompletionException e = assertThrows(CompletionException.class, () -> resolve(config));
        return assertInstanceOf(ResolveException.class, e.getCause()).error();
    }

    /** A decorator that changes nothing, as any decorator above prwrap (crypt, delay) forwards pr(). */
    private static final class Passthrough extends ForwardingDiskIo {
        Passthrough(Disk inner) {
            super(inner);
        }

        @Override
        public String diskType() {
            return "passthrough";
        }
    }

    @Test
    void prIsPresentAndIsTheEmulation() {
        try (ResolvedChain chain = resolve(prOverMemory("a"))) {
            Disk disk = chain.disk();
            assertEquals("prwrap", disk.diskType());
            PersistentReservation pr = disk.pr().orElseThrow();
            succeeds(pr.register(OptionalLong.empty(), 5, Optional.empty()));
            succeeds(pr.reserve(5, ReservationType.WRITE_EXCLUSIVE));
            assertEquals(Optional.of(ReservationType.WRITE_EXCLUSIVE), succeeds(disk.pr().orElseThrow().report())
                    .reservationType());
            assertEquals(true, InspectTree.of(disk).get("supports_pr"));
            assertEquals(ReservationType.WRITE_EXCLUSIVE, InspectTree.of(disk).get("pr_reservation"));
        }
    }

    @Test
    void aDecoratorAbovePrwrapExposesTheSameReservations() {
        try (ResolvedChain chain = resolve(prOverMemory("b"))) {
            Disk above = Disk.of(new Passthrough(Disk.of(new Passthrough(chain.disk()))));
            PersistentReservation pr = above.pr().orElseThrow();
            assertSame(chain.disk().pr().orElseThrow(), pr);
            succeeds(pr.register(OptionalLong.empty(), 9, Optional.empty()));
            assertEquals(9, succeeds(chain.disk().pr().orElseThrow().report()).controllers().getFirst().key());
        }
    }

    @Test
    void theDiskBelowHasNoReservationsOfItsOwn() {
        try (ResolvedChain chain = resolve(prOverMemory("c"))) {
            assertTrue(Disk.of(memory.disk("c")).pr().isEmpty());
        }
    }

    @Test
    void reservationsAreNotEnforcedOnIo() {
        try (ResolvedChain chain = resolve(prOverMemory("d"))) {
            Disk disk = chain.disk();
            PersistentReservation pr = disk.pr().orElseThrow();
            succeeds(pr.register(OptionalLong.empty(), 1, Optional.empty()));
            succeeds(pr.reserve(1, ReservationType.EXCLUSIVE_ACCESS));
            MemorySegment data = pattern(1024, 3);
            write(disk, 4, data);
            assertSameBytes(data, read(disk, 4, 2), "I/O under an exclusive-access reservation");
        }
    }

    @Test
    void ioAndMetadataPassThrough() {
        MemoryDisk below = MemoryDisk.builder(4096, 100).capacity(200).build();
        Disk disk = Disk.of(new ReservationDisk(Disk.of(below), new EmulatedReservations()));
        assertEquals(100, disk.sectorCount());
        assertEquals(4096, disk.sectorSize());
        assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
        assertTrue(disk.isFuaRespected());
        MemorySegment data = pattern(4096, 8);
        write(disk, 99, data);
        assertSameBytes(data, below.content().asSlice(99 * 4096L, 4096), "the write reached the disk below");
        succeeds(disk.unmap(99, 1, false));
        succeeds(disk.syncCache());
        assertEquals(3, below.requests());
    }

    @Test
    void ejectIsNotForwarded() {
        Disk disk = Disk.of(new ReservationDisk(Disk.of(MemoryDisk.of(512, 64)), new EmulatedReservations()));
        failsWith(DiskError.UnsupportedEject.class, disk.eject());
    }

    @Test
    void waitResizeIsForwarded() {
        MemoryDisk below = MemoryDisk.builder(512, 64).capacity(128).build();
        Disk disk = Disk.of(new ReservationDisk(Disk.of(below), new EmulatedReservations()));
        CompletableFuture<Long> resized = disk.waitResize(64);
        assertFalse(resized.isDone());
        below.resize(96);
        assertEquals(96L, succeeds(resized));
        assertEquals(96, disk.sectorCount());
    }

    @Test
    void theStateIsHandedToTheRebuiltChain() {
        ResolvedChain chain = resolve(prOverMemory("e"));
        PersistentReservation first = chain.disk().pr().orElseThrow();
        succeeds(first.register(OptionalLong.empty(), 77, Optional.of(true)));
        succeeds(first.reserve(77, ReservationType.EXCLUSIVE_ACCESS));
        succeeds(first.register(OptionalLong.of(77), 78, Optional.empty()));
        var before = succeeds(first.report());
        Handover handover = chain.handOver();
        chain.close();
        try (ResolvedChain again = rebuild(prOverMemory("e"), handover)) {
            assertEquals(before, succeeds(again.disk().pr().orElseThrow().report()),
                    "key, reservation, generation and PTPL");
        }
        try (ResolvedChain changed = rebuild(prOverMemory("e2"), handover)) {
            assertEquals(before, succeeds(changed.disk().pr().orElseThrow().report()),
                    "the state belongs to the disk's place, even when the disk below was reconfigured");
        }
        try (ResolvedChain fresh = resolve(prOverMemory("e"))) {
            assertTrue(succeeds(fresh.disk().pr().orElseThrow().report()).controllers().isEmpty(),
                    "a first build starts afresh");
        }
    }

    @Test
    void aStateItCannotReadFailsTheChain() {
        Handover wrong = new Handover(Map.of("prwrap", new org.diskhost.api.handover.HandoverState(
                "org.diskhost.ram", 1, Map.of())));
        CompletionException e = assertThrows(CompletionException.class, () -> rebuild(prOverMemory("g"), wrong));
        assertEquals("disk 'pr', kind 'prwrap': cannot take over the reservations: handed-over state is "
                + "org.diskhost.ram, not org.diskhost.prwrap", ((ResolveException) e.getCause()).error().message());
    }

    private ResolvedChain rebuild(Map<String, Object> config, Handover handover) {
        return ResolvedChain.resolve("pr", org.diskhost.api.resolve.DiskSpec.parse("pr", config, Path.of(".")), false,
                Map.of("memory", memory, "prwrap", resolver)::get, kind -> null, handover).join();
    }

    @Test
    void twoPrwrapLayersKeepSeparateState() {
        try (ResolvedChain chain = resolve(Map.of("kind", "prwrap", "disk", prOverMemory("f")))) {
            PersistentReservation outer = chain.disk().pr().orElseThrow();
            succeeds(outer.register(OptionalLong.empty(), 1, Optional.empty()));
            InspectTree tree = InspectTree.of(chain.disk());
            assertEquals("0x1", tree.get("pr_registered_key"));
            assertEquals(null, tree.get("inner.pr_registered_key"), "the inner layer has nothing registered");
            assertEquals(0L, tree.get("inner.pr_generation"));
        }
    }

    @Test
    void settingsAreChecked() {
        ResolveError missing = resolveError(Map.of("kind", "prwrap"));
        assertEquals("disk 'pr', kind 'prwrap', setting 'disk': missing: required for kind 'prwrap'", missing.message());
        Map<String, Object> unknown = new LinkedHashMap<>(prOverMemory("g"));
        unknown.put("readDelay", 5);
        assertTrue(resolveError(unknown).message().startsWith(
                "disk 'pr', kind 'prwrap', setting 'readDelay': unknown setting for kind 'prwrap'"));
        ResolveError nested = resolveError(Map.of("kind", "prwrap", "disk", Map.of("kind", "memory", "size", 1)));
        assertTrue(nested.message().contains("setting 'disk.size'"), nested.message());
        ResolveError notADisk = resolveError(Map.of("kind", "prwrap", "disk", "x.img"));
        assertTrue(notADisk.message().contains("setting 'disk': must be a disk"), notADisk.message());
    }

    @Test
    void aReadOnlyChainIsReadOnlyAllTheWayDown() {
        try (ResolvedChain chain = resolution.resolve("ro", prOverMemory("h"), true).join()) {
            assertTrue(chain.disk().isReadOnly());
            assertTrue(memory.disk("h").isReadOnly());
            failsWith(DiskError.ReadOnly.class, chain.disk().unmap(0, 1, false));
        }
    }
}
