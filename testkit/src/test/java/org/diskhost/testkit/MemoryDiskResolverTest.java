package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletionException;

import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.junit.jupiter.api.Test;

class MemoryDiskResolverTest {
    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), memory);

    @Test
    void defaultsAndSettings() {
        try (ResolvedChain chain = resolution.resolve("m", Map.of("kind", "memory"), false).join()) {
            assertEquals(MemoryDiskResolver.DEFAULT_SECTORS, chain.disk().sectorCount());
            assertEquals(MemoryDiskResolver.DEFAULT_SECTOR_SIZE, chain.disk().sectorSize());
            assertFalse(chain.disk().isReadOnly());
        }
        try (ResolvedChain chain = resolution.resolve("m", Map.of("kind", "memory", "id", "x", "sectors", 64,
                "sectorSize", 4096), true).join()) {
            assertEquals(64, chain.disk().sectorCount());
            assertEquals(4096, chain.disk().sectorSize());
            assertTrue(memory.disk("x").isReadOnly(), "read-only as the chain");
            assertSame(memory.disk("x"), chain.disk().backend());
        }
    }

    @Test
    void unknownSettingsAndIdsAreRefused() {
        CompletionException e = assertThrows(CompletionException.class,
                () -> resolution.resolve("m", Map.of("kind", "memory", "size", 1), false).join());
        assertTrue(assertInstanceOf(ResolveException.class, e.getCause()).error().message()
                .contains("setting 'size': unknown setting for kind 'memory'"), e.getCause().getMessage());
        assertThrows(NoSuchElementException.class, () -> memory.disk("never"));
    }
}
