package org.diskhost.backend.layered;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layered disks from configuration: the generic kind, the shorthands, and errors that name the setting. */
class LayeredResolverTest {
    @TempDir
    Path dir;

    private StandaloneResolution resolution() {
        List<DiskResolver> disks = List.of(new FileDiskResolver(), new LayeredDiskResolver(), new RamDiskResolver(),
                new RamDiffResolver(), new SqliteDiffResolver(), new AutoCacheResolver());
        List<LayerResolver> layers = List.of(new RamLayerResolver(), new DiskLayerResolver());
        return StandaloneResolution.of(dir, disks, layers);
    }

    private ResolvedChain resolve(String name, Map<String, ?> config) {
        return succeeds(resolution().resolve(name, config, false));
    }

    private ResolveError refused(Map<String, ?> config) {
        CompletableFuture<ResolvedChain> chain = resolution().resolve("bad", config, false);
        CompletionException e = assertThrows(CompletionException.class, chain::join);
        return assertInstanceOf(ResolveException.class, e.getCause()).error();
    }

    private Path baseImage(String name, int sectors) throws IOException {
        Path image = dir.resolve(name);
        byte[] bytes = new byte[sectors * 512];
        pattern(MemorySegment.ofArray(bytes), 17);
        Files.write(image, bytes);
        return image;
    }

    private static Map<String, Object> file(String path) {
        return Map.of("kind", "file", "path", path);
    }

    @Test
    void aRamDiskOfASize() {
        try (ResolvedChain chain = resolve("r", Map.of("kind", "ram", "size", "1 MiB"))) {
            Disk disk = chain.disk();
            assertEquals(2048, disk.sectorCount());
            assertEquals(512, disk.sectorSize());
            assertTrue(isZero(read(disk, 0, 8)));
            MemorySegment data = pattern(4096, 1);
            write(disk, 100, data);
            assertSameBytes(data, read(disk, 100, 8), "round trip");
        }
        try (ResolvedChain chain = resolve("r4k", Map.of("kind", "ram", "size", "64 KiB", "sectorSize", 4096))) {
            assertEquals(16, chain.disk().sectorCount());
            assertEquals(4096, chain.disk().sectorSize());
        }
    }

    @Test
    void aRamDiffNeverModifiesTheDiskBelow() throws IOException {
        Path base = baseImage("base.img", 256);
        byte[] before = Files.readAllBytes(base);
        try (ResolvedChain chain = resolve("diff", Map.of("kind", "ramdiff", "disk", file("base.img")))) {
            Disk disk = chain.disk();
            assertEquals(256, disk.sectorCount());
            assertFalse(disk.isReadOnly());
            MemorySegment data = pattern(8 * 512, 2);
            write(disk, 10, data);
            succeeds(disk.unmap(0, 256, false));
            succeeds(disk.syncCache());
            assertTrue(isZero(read(disk, 0, 256)), "unmapped to the end: zeros");
            assertEquals(List.of("ramdiff", "file"), List.copyOf(chain.kinds()));
        }
        assertArrayEquals(before, Files.readAllBytes(base), "the base image is untouched");
    }

    @Test
    void theGenericKindStacksConfiguredLayers() throws IOException {
        Path base = baseImage("g.img", 128);
        byte[] before = Files.readAllBytes(base);
        Map<String, Object> config = Map.of("kind", "layered", "layers", List.of(
                Map.of("kind", "ram"),
                Map.of("kind", "ram", "readCache", true),
                Map.of("kind", "disk", "disk", file("g.img"))));
        try (ResolvedChain chain = resolve("g", config)) {
            Disk disk = chain.disk();
            assertSameBytes(MemorySegment.ofArray(before).asSlice(0, 128 * 512), read(disk, 0, 128), "merged");
            write(disk, 3, pattern(512, 5));
            assertEquals(List.of("layered", "ram", "disk", "file"), List.copyOf(chain.kinds()));
        }
        assertArrayEquals(before, Files.readAllBytes(base));
    }

    @Test
    void aRuntimeResizeChangesTheDiskAndWakesWaiters() {
        try (ResolvedChain chain = resolve("grow", Map.of("kind", "ram", "size", "64 KiB"))) {
            Disk disk = chain.disk();
            write(disk, 0, pattern(512, 3));
            CompletableFuture<Long> resized = disk.waitResize(128);
            assertEquals(1, LiveRamLayers.INSTANCE.resize("grow", 128 * 1024));
            assertEquals(256L, succeeds(resized));
            assertEquals(256, disk.sectorCount());
            assertTrue(isZero(read(disk, 128, 128)));
            assertThrows(IllegalArgumentException.class, () -> LiveRamLayers.INSTANCE.resize("grow", 1000));
            assertEquals(256, disk.sectorCount(), "a refused size changes nothing");
        } finally {
            LiveRamLayers.INSTANCE.forget("grow");
        }
        assertTrue(LiveRamLayers.INSTANCE.layers("grow").isEmpty(), "closed layers are forgotten");
    }

    @Test
    void runtimeResizesAreParsedStrictly() {
        assertEquals(new RamResize("org.diskhost.ram~d", "d", 1 << 20),
                RamResize.parse("org.diskhost.ram~d", Map.of("size", "1 MiB")));
        IllegalArgumentException misspelt = assertThrows(IllegalArgumentException.class,
                () -> RamResize.parse("org.diskhost.ram~d", Map.of("sise", "1 MiB")));
        assertTrue(misspelt.getMessage().contains("setting 'sise': unknown setting"), misspelt.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RamResize.parse("org.diskhost.ram~d", Map.of("size", 0)));
        assertThrows(IllegalArgumentException.class, () -> RamResize.parse("org.diskhost.ram", Map.of("size", 1)));
    }

    // ---- errors name the setting ----

    @Test
    void mismatchedSectorSizesNameTheLayer() throws IOException {
        baseImage("m.img", 64);
        ResolveError error = refused(Map.of("kind", "layered", "layers", List.of(
                Map.of("kind", "ram", "sectorSize", 4096), Map.of("kind", "disk", "disk", file("m.img")))));
        assertEquals("disk 'bad', kind 'layered', setting 'layers[0]': its sector size is 4096 bytes, but the bottom "
                + "layer's is 512", error.message());
    }

    @Test
    void badRamSizesNameTheSetting() {
        assertEquals("disk 'bad', kind 'ram', setting 'size': must be a multiple of the sector size 512, got 1000",
                refused(Map.of("kind", "ram", "size", 1000)).message());
        assertEquals("disk 'bad', kind 'ram', setting 'size': missing: required for kind 'ram'",
                refused(Map.of("kind", "ram")).message());
        assertEquals("disk 'bad', kind 'ram', setting 'sectorSize': must be a power of two from 512 to 1 GiB, got 1000",
                refused(Map.of("kind", "ram", "size", "1M", "sectorSize", 1000)).message());
        assertEquals("disk 'bad', kind 'ram', setting 'layers[0].size': missing: a RAM layer with no layer below "
                + "needs a size", refused(Map.of("kind", "layered", "layers", List.of(Map.of("kind", "ram"))))
                .message());
    }

    @Test
    void aDiskLayerCannotBeAReadCache() throws IOException {
        baseImage("c.img", 64);
        ResolveError error = refused(Map.of("kind", "layered", "readOnly", true, "layers", List.of(
                Map.of("kind", "disk", "readCache", true, "disk", file("c.img")),
                Map.of("kind", "ram", "size", "32 KiB"))));
        assertEquals("disk 'bad', kind 'layered', setting 'layers[0]': a disk layer cannot be a read cache (it has no "
                + "no-overwrite write)", error.message());
    }

    @Test
    void uselessWriteThroughAndMisspeltFlagsAreRefused() {
        assertTrue(refused(Map.of("kind", "layered", "layers", List.of(Map.of("kind", "ram", "size", "1M",
                "writeThrough", true)))).message().contains("setting 'layers[0]': the bottom layer cannot be "
                + "write-through"));
        assertEquals("disk 'bad', kind 'ram', setting 'layers[0].readcache': unknown setting for kind 'ram' "
                + "(known: sectorSize, size)", refused(Map.of("kind", "layered", "layers", List.of(
                        Map.of("kind", "ram", "size", "1M", "readcache", true)))).message());
    }

    @Test
    void aMissingLayerKindWaitsLikeAMissingDiskKind() throws IOException {
        baseImage("s.img", 64);
        ResolveError error = refused(Map.of("kind", "sqlitediff", "path", "diff.dbhd", "disk", file("s.img")));
        assertEquals(new ResolveError.NoResolver("bad", "sqlite"), error);
        assertEquals(new ResolveError.NoResolver("bad", "vhdx"),
                refused(Map.of("kind", "layered", "layers", List.of(Map.of("kind", "vhdx")))));
    }
}
