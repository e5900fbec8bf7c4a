package org.diskhost.backend.delay;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;

import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.ReservationType;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.prwrap.PrWrapDiskResolver;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Test;

class DelayResolverTest {
    private final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final LiveDelays live = new LiveDelays();
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), memory,
            new DelayDiskResolver(live, new ManualTimer()), new PrWrapDiskResolver());

    private static Map<String, Object> delay(Object... settings) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", "delay");
        spec.put("disk", Map.of("kind", "memory", "id", "below"));
        for (int i = 0; i < settings.length; i += 2) {
            spec.put((String) settings[i], settings[i + 1]);
        }
        return spec;
    }

    private String error(Map<String, Object> config) {
        CompletionException e = assertThrows(CompletionException.class,
                () -> resolution.resolve("d", config, false).join());
        return assertInstanceOf(ResolveException.class, e.getCause()).error().message();
    }

    @Test
    void theSpecGivesTheInitialDelaysAndDefaultsToNone() {
        try (ResolvedChain chain = resolution.resolve("d", delay("readDelay", "250ms", "writeDelay", 3), false)
                .join()) {
            DelayDisk disk = (DelayDisk) chain.disk().backend();
            assertEquals(new Delays(Duration.ofMillis(250), Duration.ofMillis(3)), disk.delays());
            assertEquals(List.of(disk), live.disks("d"), "registered under the configured disk's name");
            assertEquals(List.of("delay", "memory"), List.copyOf(chain.kinds()));
        }
        try (ResolvedChain chain = resolution.resolve("d", delay(), false).join()) {
            assertEquals(Delays.NONE, ((DelayDisk) chain.disk().backend()).delays());
        }
        assertTrue(live.disks("d").isEmpty(), "closing the chain unregisters the disks");
    }

    @Test
    void settingsAreChecked() {
        assertEquals("disk 'd', kind 'delay', setting 'disk': missing: required for kind 'delay'",
                error(Map.of("kind", "delay")));
        assertTrue(error(delay("delay", "5ms")).startsWith(
                "disk 'd', kind 'delay', setting 'delay': unknown setting for kind 'delay' (known: disk, readDelay, "
                        + "writeDelay)"));
        assertTrue(error(delay("readDelay", "fast")).startsWith(
                "disk 'd', kind 'delay', setting 'readDelay': must be a duration"));
        assertTrue(error(delay("writeDelay", -1)).contains("setting 'writeDelay': must not be negative"));
        assertEquals("disk 'd', kind 'delay', setting 'readDelay': must be at most 3600s, got 7200s",
                error(delay("readDelay", "2h")));
        assertTrue(error(Map.of("kind", "delay", "disk", Map.of("kind", "memory", "size", 1)))
                .contains("setting 'disk.size'"));
    }

    @Test
    void aReadOnlyChainIsReadOnlyBelow() {
        try (ResolvedChain chain = resolution.resolve("d", delay(), true).join()) {
            assertTrue(chain.disk().isReadOnly());
            assertTrue(memory.disk("below").isReadOnly());
        }
    }

    @Test
    void delayOverPrwrapExposesItsReservations() {
        Map<String, Object> spec = Map.of("kind", "delay", "readDelay", 5,
                "disk", Map.of("kind", "prwrap", "disk", Map.of("kind", "memory")));
        try (ResolvedChain chain = resolution.resolve("d", spec, false).join()) {
            PersistentReservation pr = chain.disk().pr().orElseThrow();
            succeeds(pr.register(OptionalLong.empty(), 42, Optional.empty()));
            succeeds(pr.reserve(42, ReservationType.EXCLUSIVE_ACCESS));
            DelayDisk delay = (DelayDisk) chain.disk().backend();
            assertSame(pr, delay.pr().orElseThrow());
            assertEquals(Optional.of(ReservationType.EXCLUSIVE_ACCESS), succeeds(pr.report()).reservationType());
            assertEquals("prwrap", org.diskhost.api.inspect.InspectTree.of(chain.disk()).get("inner.disk_type"));
        }
    }
}
