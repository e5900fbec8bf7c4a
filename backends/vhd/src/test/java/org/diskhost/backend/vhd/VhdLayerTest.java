package org.diskhost.backend.vhd;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.testkit.LayerConformance;
import org.diskhost.testkit.RecordingMarker;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layer kind {@code vhd}: the conformance suite, and what a VHD file as a layer holds and creates. */
class VhdLayerTest {
    @TempDir
    Path dir;

    private CompletableFuture<LayerIo> attach(Map<String, Object> settings, boolean readOnly,
            Optional<LowerLayer> below) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", "vhd");
        DiskSpec spec = DiskSpec.parse("test", config, dir);
        // As the chain builder does: a resolver may throw its error instead of returning it failed.
        VhdLayerResolver resolver = new VhdLayerResolver();
        return CompletableFuture.completedFuture(spec).thenCompose(s -> resolver.resolve(s, new ResolveContext() {
            public String diskName() {
                return "test";
            }

            public boolean readOnly() {
                return readOnly;
            }

            public CompletableFuture<Disk> resolve(DiskSpec nested, boolean ro) {
                throw new UnsupportedOperationException("a vhd layer has no nested disks");
            }
        })).thenCompose(layer -> layer.attach(below));
    }

    private LayerIo layer(Map<String, Object> settings) {
        return attach(settings, false, Optional.empty()).join();
    }

    private String fails(Map<String, Object> settings, boolean readOnly, Optional<LowerLayer> below) {
        try {
            attach(settings, readOnly, below).join().close();
        } catch (CompletionException e) {
            return e.getCause().getMessage();
        }
        throw new AssertionError("attaching " + settings + " succeeded");
    }

    private static LowerLayer below(long sectors, int sectorSize) {
        return new LowerLayer(Optional.empty(), sectorSize, sectors, sectorSize, UnmapBehavior.ZEROES, 1, false,
                false, true);
    }

    @Nested
    class NewDynamicFile extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            return layer(Map.of("path", "new.vhd", "size", "1 MiB", "blockSize", "16 KiB"));
        }
    }

    @Nested
    class ReadOnlyFixedFile extends LayerConformance {
        @Override
        protected LayerIo openLayer() throws Exception {
            FixedVhd.create(dir.resolve("fixed.vhd"), 64 * 1024);
            return attach(Map.of("path", "fixed.vhd"), true, Optional.empty()).join();
        }
    }

    @Test
    void aNewFileTakesTheSizeOfTheLayerBelowExactly() throws Exception {
        LayerIo layer = attach(Map.of("path", "sub/over.vhd"), false, Optional.of(below(1001, 512))).join();
        try {
            assertEquals(1001, layer.sectorCount(), "not rounded to a CHS geometry");
            assertEquals("vhd", layer.layerType());
            assertTrue(layer.diskId().isPresent());
            assertEquals(UnmapBehavior.UNSPECIFIED, layer.unmapBehavior());
            assertEquals(2 * 1024 * 1024 / 512, layer.optimalUnmapSectors());
        } finally {
            layer.close();
        }
        assertTrue(Files.isRegularFile(dir.resolve("sub/over.vhd")));
    }

    /** Only written sectors are present: the rest of a block shows the layers below; unmap never exposes them. */
    @Test
    void readsMarkOnlyWhatTheFileHasAndUnmapDropsOnlyOverZeros() {
        LayerIo layer = layer(Map.of("path", "marks.vhd", "size", "256 KiB", "blockSize", "4 KiB"));
        try {
            byte[] data = VhdDisks.pattern(3 * 512, 5);
            succeeds(layer.write(RequestBuffers.of(MemorySegment.ofArray(data), false), 9, false));
            MemorySegment into = MemorySegment.ofArray(new byte[32 * 512]);
            RecordingMarker marker = new RecordingMarker(0, 32);
            succeeds(layer.read(RequestBuffers.of(into, true), 0, marker));
            for (int s = 0; s < 32; s++) {
                assertEquals(s >= 9 && s < 12, marker.isMarked(s), "sector " + s);
            }
            assertArrayEquals(data, into.asSlice(9 * 512, data.length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertEquals(List.of(new AllocationExtent(9, Allocation.HOLE), new AllocationExtent(3, Allocation.DATA),
                    new AllocationExtent(4, Allocation.HOLE)), succeeds(layer.allocation(0, 16)));

            succeeds(layer.unmap(8, 8, false, false)); // the layers below are not zeros: nothing may change
            assertEquals(Allocation.DATA, succeeds(layer.allocation(9, 1)).getFirst().allocation());
            succeeds(layer.unmap(8, 8, false, true)); // block 1 (sectors 8 to 15) goes
            assertEquals(List.of(new AllocationExtent(16, Allocation.HOLE)), succeeds(layer.allocation(0, 16)));
        } finally {
            layer.close();
        }
    }

    @Test
    void errorsNameTheSetting() throws Exception {
        String m = fails(Map.of("path", "x.vhd"), false, Optional.empty());
        assertTrue(m.contains("setting 'size': missing: a new file takes it from the layer below"), m);
        m = fails(Map.of("path", "x.vhd", "create", false), false, Optional.empty());
        assertTrue(m.contains("no such file: " + dir.resolve("x.vhd") + " (set 'create' to create it)"), m);
        m = fails(Map.of("path", "x.vhd", "size", "1 MiB"), true, Optional.empty());
        assertTrue(m.contains("setting 'create': cannot create"), m);
        m = fails(Map.of("path", "x.vhd"), false, Optional.of(below(64, 4096)));
        assertTrue(m.contains("a VHD layer has 512-byte sectors, but the layer below has 4096"), m);
        m = fails(Map.of("path", "x.vhd", "blockSize", "1 KiB"), false, Optional.empty());
        assertTrue(m.contains("setting 'blockSize': must be a power of two"), m);
        Files.write(dir.resolve("raw.img"), new byte[4096]);
        m = fails(Map.of("path", "raw.img"), false, Optional.empty());
        assertTrue(m.contains("neither a VHD nor a VHDX"), m);
        assertFalse(Files.exists(dir.resolve("x.vhd")));
    }
}
