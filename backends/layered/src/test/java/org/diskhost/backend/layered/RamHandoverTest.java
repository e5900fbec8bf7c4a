package org.diskhost.backend.layered;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import org.diskhost.api.handover.Handover;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Test;

/** A RAM layer's contents survive a chain rebuild: the old layer exports them, the new one takes them over. */
class RamHandoverTest {
    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final Map<String, DiskResolver> disks = Map.of("memory", memory, "layered", new LayeredDiskResolver(),
            "ramdiff", new RamDiffResolver(), "ram", new RamDiskResolver());
    private final Map<String, LayerResolver> layers = Map.of("ram", new RamLayerResolver(), "disk",
            new DiskLayerResolver());

    private ResolvedChain build(Map<String, ?> config, Handover handover) {
        DiskSpec spec = DiskSpec.parse("h", config, Path.of("."));
        return ResolvedChain.resolve("h", spec, false, disks::get, layers::get, handover).join();
    }

    private static Map<String, Object> ramOverMemory(String size) {
        return Map.of("kind", "layered", "layers", List.of(
                size == null ? Map.of("kind", "ram") : Map.of("kind", "ram", "size", size),
                Map.of("kind", "disk", "disk", Map.of("kind", "memory", "sectors", 4096, "id", "base"))));
    }

    @Test
    void theContentsAndTheWatermarkSurviveARebuild() {
        Map<String, Object> config = ramOverMemory(null);
        ResolvedChain first = build(config, Handover.NONE);
        MemorySegment data = pattern(64 * 1024, 3);
        write(first.disk(), 1000, data);
        write(first.disk(), 4095, pattern(512, 4));
        RamLayer layer = onlyRamLayer(first);
        layer.resize(2048); // a runtime shrink: the sectors above read as zeros after a grow
        layer.resize(4096);
        Handover handover = first.handOver();
        first.close();
        assertEquals(java.util.Set.of("layered/0:ram"), handover.byPlace().keySet());

        try (ResolvedChain second = build(config, handover)) {
            assertSameBytes(data, read(second.disk(), 1000, 128), "the RAM layer's data");
            assertTrue(isZero(read(second.disk(), 4095, 1)), "the zero-after watermark came along");
            assertEquals(onlyRamLayer(second).presentSectors(), 128);
        }
    }

    @Test
    void chunksThatDoNotFitAreRefused() {
        java.util.concurrent.ConcurrentHashMap<Long, long[]> chunks = new java.util.concurrent.ConcurrentHashMap<>();
        chunks.put(5000L, new long[513]);
        Handover outside = new Handover(Map.of("layered/0:ram", new HandoverState(RamLayer.HANDOVER_FORMAT, 1,
                Map.of("sectorSize", 512, "sectorCount", 4096L, "requestedSectors", 4096L, "zeroAfter", 4096L,
                        "chunks", chunks))));
        CompletionException e = assertThrows(CompletionException.class, () -> build(ramOverMemory(null), outside));
        assertEquals("disk 'h', kind 'ram': cannot take over the RAM layer's contents: the handed-over RAM layer's "
                + "chunk 5000 does not fit a layer of 4096 sectors",
                assertInstanceOf(ResolveException.class, e.getCause()).error().message());
    }

    @Test
    void aRuntimeSizeIsKeptButAChangedSettingResizes() {
        ResolvedChain first = build(ramOverMemory("1 MiB"), Handover.NONE);
        write(first.disk(), 10, pattern(512, 5));
        onlyRamLayer(first).resize(4096);
        Handover handover = first.handOver();
        first.close();
        try (ResolvedChain same = build(ramOverMemory("1 MiB"), handover)) {
            assertEquals(4096, same.disk().sectorCount(), "a runtime resize outlives the rebuild");
            assertSameBytes(pattern(512, 5), read(same.disk(), 10, 1), "data");
        }
        try (ResolvedChain changed = build(ramOverMemory("512 KiB"), handover)) {
            assertEquals(1024, changed.disk().sectorCount(), "a changed size setting applies");
            assertSameBytes(pattern(512, 5), read(changed.disk(), 10, 1), "data below the new size");
        }
    }

    @Test
    void theShorthandKindsHandOverToo() {
        Map<String, Object> config = Map.of("kind", "ramdiff", "disk", Map.of("kind", "memory", "sectors", 64));
        ResolvedChain first = build(config, Handover.NONE);
        write(first.disk(), 7, pattern(512, 9));
        Handover handover = first.handOver();
        first.close();
        try (ResolvedChain second = build(config, handover)) {
            assertSameBytes(pattern(512, 9), read(second.disk(), 7, 1), "ramdiff");
        }
    }

    @Test
    void stateItCannotReadFailsTheChainWithAClearError() {
        Handover newer = new Handover(Map.of("layered/0:ram", new HandoverState(RamLayer.HANDOVER_FORMAT, 2,
                Map.of())));
        CompletionException e = assertThrows(CompletionException.class,
                () -> build(ramOverMemory(null), newer));
        ResolveError error = assertInstanceOf(ResolveException.class, e.getCause()).error();
        assertEquals("disk 'h', kind 'ram': cannot take over the RAM layer's contents: handed-over state "
                + "org.diskhost.ram is version 2, newer than version 1 that this backend reads", error.message());
    }

    /** The open chain's RAM layer (the tests close each chain before building the next). */
    private static RamLayer onlyRamLayer(ResolvedChain chain) {
        List<RamLayer> found = LiveRamLayers.INSTANCE.layers(chain.diskName());
        assertEquals(1, found.size(), "one live RAM layer for the disk");
        return found.getFirst();
    }
}
