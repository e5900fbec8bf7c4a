package org.diskhost.backend.layer.sqlite;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.backend.layered.AutoCacheResolver;
import org.diskhost.backend.layered.DiskLayerResolver;
import org.diskhost.backend.layered.LayeredDiskResolver;
import org.diskhost.backend.layered.RamLayerResolver;
import org.diskhost.backend.layered.SqliteDiffResolver;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SQLite layers in stacks built from configuration: diffs that persist, auto-caches, and the disk suite over both. */
class SqliteStacksTest {
    @TempDir
    static Path dir;

    private static int images;

    private static StandaloneResolution resolution() {
        List<DiskResolver> disks = List.of(new FileDiskResolver(), new LayeredDiskResolver(), new SqliteDiffResolver(),
                new AutoCacheResolver());
        List<LayerResolver> layers = List.of(new RamLayerResolver(), new DiskLayerResolver(),
                new SqliteLayerResolver(), new SqliteAutoCacheResolver());
        return StandaloneResolution.of(dir, disks, layers);
    }

    private static ResolvedChain resolve(Map<String, ?> config) {
        return succeeds(resolution().resolve("s", config, false));
    }

    private static ResolveError refused(Map<String, ?> config) {
        CompletionException e = assertThrows(CompletionException.class,
                () -> resolution().resolve("s", config, false).join());
        return assertInstanceOf(ResolveException.class, e.getCause()).error();
    }

    private static String baseImage(int sectors) throws IOException {
        String name = "base" + (++images) + ".img";
        byte[] bytes = new byte[sectors * 512];
        pattern(MemorySegment.ofArray(bytes), images);
        Files.write(dir.resolve(name), bytes);
        return name;
    }

    private static Map<String, Object> file(String path) {
        return Map.of("kind", "file", "path", path);
    }

    /** Keeps the chain open while its disk is under test. */
    private abstract static class ChainConformance extends DiskConformance {
        ResolvedChain chain;

        abstract Map<String, ?> config() throws IOException;

        @Override
        protected Disk openDisk() throws IOException {
            chain = resolve(config());
            return chain.disk();
        }
    }

    @Nested
    class SqliteDiffOverAFile extends ChainConformance {
        @Override
        Map<String, ?> config() throws IOException {
            return Map.of("kind", "sqlitediff", "path", "diff" + (++images) + ".dbhd", "disk", file(baseImage(128)));
        }
    }

    @Nested
    class AutoCacheOverAFile extends ChainConformance {
        @Override
        Map<String, ?> config() throws IOException {
            return Map.of("kind", "autocache", "cachePath", "cache", "cacheKey", "k" + (++images),
                    "disk", file(baseImage(128)));
        }
    }

    @Nested
    class RamOverSqliteWriteThrough extends ChainConformance {
        @Override
        Map<String, ?> config() {
            return Map.of("kind", "layered", "layers", List.of(Map.of("kind", "ram", "writeThrough", true),
                    Map.of("kind", "sqlite", "path", "wt" + (++images) + ".dbhd", "size", "64 KiB")));
        }
    }

    @Test
    void aSqliteDiffPersistsAcrossReopeningAndNeverWritesTheBase() throws IOException {
        String base = baseImage(256);
        byte[] before = Files.readAllBytes(dir.resolve(base));
        Map<String, Object> config = Map.of("kind", "sqlitediff", "path", "persist.dbhd", "disk", file(base));
        MemorySegment data = pattern(4096, 8);
        try (ResolvedChain chain = resolve(config)) {
            write(chain.disk(), 100, data);
            succeeds(chain.disk().syncCache());
        }
        try (ResolvedChain chain = resolve(config)) {
            assertSameBytes(data, read(chain.disk(), 100, 8), "the diff's data after reopening");
            assertSameBytes(MemorySegment.ofArray(before).asSlice(0, 100 * 512), read(chain.disk(), 0, 100),
                    "the base shows through");
        }
        assertArrayEquals(before, Files.readAllBytes(dir.resolve(base)));
    }

    @Test
    void anAutoCacheIsFilledByReadsAndUsedWhenReopened() throws IOException {
        String base = baseImage(64);
        Map<String, Object> config = Map.of("kind", "autocache", "cachePath", "auto", "cacheKey", "mine",
                "disk", file(base));
        MemorySegment first;
        try (ResolvedChain chain = resolve(config)) {
            assertTrue(chain.disk().isReadOnly());
            first = read(chain.disk(), 0, 16);
        }
        Path cache = dir.resolve("auto/mine/cache.dbhd");
        assertTrue(Files.exists(cache));
        try (var files = Files.list(cache.getParent())) {
            assertEquals(List.of(cache), files.filter(p -> !p.getFileName().toString().startsWith("cache.dbhd-"))
                    .toList(), "no temporary directory is left");
        }
        // Change the base: what was cached is still served from the cache.
        byte[] changed = new byte[64 * 512];
        Files.write(dir.resolve(base), changed);
        try (ResolvedChain chain = resolve(config)) {
            assertSameBytes(first, read(chain.disk(), 0, 16), "served from the cache");
        }
    }

    @Test
    void anAutoCacheNeedsAKeyOrADiskIdAndTheRightSize() throws IOException {
        String base = baseImage(64);
        assertEquals("disk 's', kind 'autocache', setting 'cacheKey': missing: cannot cache without a disk ID, and "
                + "the disk below has none", refused(Map.of("kind", "autocache", "cachePath", "a", "disk",
                        file(base))).message());
        resolve(Map.of("kind", "autocache", "cachePath", "sized", "cacheKey", "x", "disk", file(base))).close();
        String bigger = baseImage(128);
        String message = refused(Map.of("kind", "autocache", "cachePath", "sized", "cacheKey", "x", "disk",
                file(bigger))).message();
        assertTrue(message.contains("has 64 sectors of 512 bytes, but the disk below has 128 of 512"), message);
        assertTrue(refused(Map.of("kind", "autocache", "cachePath", "a", "cacheKey", "../up", "disk", file(base)))
                .message().contains("setting 'cacheKey': must be a file name"));
    }

    @Test
    void sqliteSettingsAreChecked() {
        assertEquals("disk 's', kind 'sqlite', setting 'layers[0].size': missing: a new SQLite layer with no layer "
                + "below needs a size", refused(Map.of("kind", "layered", "layers", List.of(
                        Map.of("kind", "sqlite", "path", "nosize.dbhd")))).message());
        assertTrue(refused(Map.of("kind", "layered", "layers", List.of(Map.of("kind", "sqlite", "path", "none.dbhd",
                "create", false)))).message().contains("no such file"));
    }
}
