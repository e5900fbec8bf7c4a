package org.diskhost.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.ArrayDiskIo;
import org.diskhost.api.Disk;
import org.diskhost.api.handover.Handover;
import org.diskhost.api.handover.HandoverState;
import org.junit.jupiter.api.Test;

/** Elements hand their state to the element in the same place of the rebuilt chain. */
class ResolvedChainHandoverTest {
    private static final String FORMAT = "test.counter";

    /** Counts its resolutions: the count goes up by one across each rebuild. */
    private final List<Long> counts = new ArrayList<>();
    private int readsUpTo = 1;

    private final DiskResolver counter = new DiskResolver() {
        public String kind() {
            return "counter";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            long count;
            try {
                count = context.handedOver().map(s -> s.require(FORMAT, readsUpTo).number("count")).orElse(0L);
            } catch (IllegalArgumentException e) {
                return CompletableFuture.failedFuture(new ResolveException(new ResolveError.ResolverError(
                        context.diskName(), kind(), e.getMessage())));
            }
            counts.add(count);
            context.handOverWith(() -> new HandoverState(FORMAT, 1, Map.of("count", count + 1)));
            return CompletableFuture.completedFuture(Disk.of(new ArrayDiskIo(512, 1)));
        }
    };

    /** Resolves the disks in its {@code disks} list, serves the first. */
    private final DiskResolver pair = new DiskResolver() {
        public String kind() {
            return "pair";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            CompletableFuture<Disk> first = context.resolve(spec.settings().disk("first"));
            CompletableFuture<Disk> second = context.resolve(spec.settings().disk("second"));
            return first.thenCombine(second, (a, b) -> a);
        }
    };

    private final Map<String, Object> spec = Map.of("kind", "pair", "first", Map.of("kind", "counter"),
            "second", Map.of("kind", "counter"));

    private ResolvedChain build(Handover handover) {
        return ResolvedChain.resolve("d", DiskSpec.parse("d", spec, Path.of(".")), false,
                Map.of("pair", pair, "counter", counter)::get, kind -> null, handover).join();
    }

    @Test
    void eachPlaceGetsItsPredecessorsState() {
        ResolvedChain first = build(Handover.NONE);
        assertEquals(List.of("pair", "pair/0:counter", "pair/1:counter"),
                first.elements().stream().map(ResolvedChain.Element::place).toList());
        first.disk().writeVectored(org.diskhost.api.buffers.RequestBuffers.of(MemorySegment.ofArray(new byte[512]),
                false), 0, false).join();
        Handover handover = first.handOver();
        first.close();
        assertEquals(java.util.Set.of("pair/0:counter", "pair/1:counter"), handover.byPlace().keySet());

        ResolvedChain second = build(handover);
        second.close();
        ResolvedChain third = build(second.handOver());
        third.close();
        assertEquals(List.of(0L, 0L, 1L, 1L, 2L, 2L), counts);
    }

    @Test
    void aStateTheSuccessorCannotReadFailsItsResolutionInsteadOfStartingEmpty() {
        Handover newer = new Handover(Map.of("pair/0:counter", new HandoverState(FORMAT, 2, Map.of("count", 5L))));
        CompletionException e = assertThrows(CompletionException.class, () -> build(newer));
        ResolveError error = ((ResolveException) e.getCause()).error();
        assertInstanceOf(ResolveError.ResolverError.class, error);
        assertEquals("disk 'd', kind 'counter': handed-over state test.counter is version 2, newer than version 1 "
                + "that this backend reads", error.message());
        readsUpTo = 2;
        build(newer).close();
        assertEquals(List.of(5L, 0L), counts.subList(counts.size() - 2, counts.size()));
    }
}
