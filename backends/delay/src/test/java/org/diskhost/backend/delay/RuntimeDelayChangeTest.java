package org.diskhost.backend.delay;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.ConfigurationException;

/**
 * Runtime delay changes as Configuration Admin delivers them to the delay component (a managed service factory),
 * applied to live disks in place.
 */
class RuntimeDelayChangeTest {
    private static final String PID = "org.diskhost.delay~live";

    private final ManualTimer timer = new ManualTimer();
    private final LiveDelays live = new LiveDelays();
    private final DelayComponent component = new DelayComponent(live, timer);
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), new MemoryDiskResolver(),
            component);
    private final List<ResolvedChain> chains = new ArrayList<>();

    @AfterEach
    void close() {
        chains.forEach(ResolvedChain::close);
    }

    private Disk open(String name, Map<String, Object> spec) {
        ResolvedChain chain = resolution.resolve(name, spec, false).join();
        chains.add(chain);
        return chain.disk();
    }

    private Disk open(String name, Object readDelay, Object writeDelay) {
        return open(name, Map.of("kind", "delay", "readDelay", readDelay, "writeDelay", writeDelay,
                "disk", Map.of("kind", "memory")));
    }

    private static Dictionary<String, Object> properties(Object... keyValues) {
        Hashtable<String, Object> p = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put((String) keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    /** The delays the disk's next read and write get, as the timer is asked for them (zero: not asked). */
    private List<Duration> delaysOf(Disk disk) {
        return List.of(delayAskedBy(() -> disk.readVectored(RequestBuffers.of(allocate(512), true), 0)),
                delayAskedBy(() -> disk.writeVectored(RequestBuffers.of(allocate(512), false), 0, false)));
    }

    private Duration delayAskedBy(Supplier<CompletableFuture<Void>> request) {
        int before = timer.asked().size();
        CompletableFuture<Void> done = request.get();
        List<Duration> asked = timer.asked();
        timer.elapseAll();
        succeeds(done);
        return asked.size() > before ? asked.get(before) : Duration.ZERO;
    }

    @Test
    void anUpdateChangesTheDelaysOfTheLiveDisk() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20)), delaysOf(disk));
        component.updated(PID, properties("readDelay", "250ms", "writeDelay", 5));
        assertEquals(List.of(Duration.ofMillis(250), Duration.ofMillis(5)), delaysOf(disk));
        assertEquals(PID, InspectTree.of(disk).get("delays_from"));
        component.updated(PID, properties("readDelay", "1s", "writeDelay", "2s"));
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), delaysOf(disk));
    }

    @Test
    void anAbsentDelayKeepsTheSpecsValue() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        component.updated(PID, properties("writeDelay", "90ms"));
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(90)), delaysOf(disk));
    }

    @Test
    void deletingTheChangeReturnsToTheSpec() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        component.updated(PID, properties("readDelay", "300ms"));
        component.deleted(PID);
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20)), delaysOf(disk));
        assertEquals("spec", InspectTree.of(disk).get("delays_from"));
    }

    @Test
    void theNameComesFromTheNamedFactoryPidOrFromDiskhostName() throws Exception {
        Disk live = open("live", "10ms", "20ms");
        Disk other = open("other", "10ms", "20ms");
        component.updated("org.diskhost.delay.3f2a", properties("diskhost.name", "other", "readDelay", "40ms"));
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20)), delaysOf(live), "another disk");
        assertEquals(List.of(Duration.ofMillis(40), Duration.ofMillis(20)), delaysOf(other));
    }

    @Test
    void aChangeMadeBeforeTheDiskOpensAppliesWhenItDoes() throws Exception {
        component.updated(PID, properties("readDelay", "77ms"));
        Disk disk = open("live", "10ms", "20ms");
        assertEquals(List.of(Duration.ofMillis(77), Duration.ofMillis(20)), delaysOf(disk));
    }

    @Test
    void aChangeOutlivesARebuildOfTheChain() throws Exception {
        open("live", "10ms", "20ms");
        component.updated(PID, properties("readDelay", "66ms"));
        chains.removeFirst().close(); // the host closes the old chain, then builds the new one
        assertTrue(live.disks("live").isEmpty(), "a closed disk gets no more changes");
        Disk rebuilt = open("live", "11ms", "22ms"); // even with a changed spec
        assertEquals(List.of(Duration.ofMillis(66), Duration.ofMillis(22)), delaysOf(rebuilt));
        assertEquals(1, live.disks("live").size());
    }

    @Test
    void everyDelayLayerOfTheDiskChanges() throws Exception {
        Disk disk = open("live", Map.of("kind", "delay", "readDelay", "1ms", "disk",
                Map.of("kind", "delay", "readDelay", "2ms", "disk", Map.of("kind", "memory"))));
        component.updated(PID, properties("readDelay", "9ms"));
        int before = timer.asked().size();
        CompletableFuture<Void> r = disk.readVectored(RequestBuffers.of(allocate(512), true), 0);
        timer.elapseAll(); // the outer layer's wait
        timer.elapseAll(); // then the inner layer's
        succeeds(r);
        assertEquals(List.of(Duration.ofMillis(9), Duration.ofMillis(9)), timer.asked().subList(before, before + 2));
    }

    @Test
    void theLastUpdatedOfTwoChangesForOneDiskApplies() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        component.updated(PID, properties("readDelay", "30ms"));
        component.updated("org.diskhost.delay.extra", properties("diskhost.name", "live", "readDelay", "40ms"));
        assertEquals(Duration.ofMillis(40), delaysOf(disk).getFirst());
        component.deleted("org.diskhost.delay.extra");
        assertEquals(Duration.ofMillis(30), delaysOf(disk).getFirst());
    }

    @Test
    void renamingAChangeMovesIt() throws Exception {
        Disk a = open("a", "10ms", "20ms");
        Disk b = open("b", "10ms", "20ms");
        component.updated("org.diskhost.delay.x", properties("diskhost.name", "a", "readDelay", "50ms"));
        component.updated("org.diskhost.delay.x", properties("diskhost.name", "b", "readDelay", "50ms"));
        assertEquals(Duration.ofMillis(10), delaysOf(a).getFirst());
        assertEquals(Duration.ofMillis(50), delaysOf(b).getFirst());
    }

    @Test
    void badChangesAreRejectedNamingThePropertyAndChangeNothing() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> component.updated(PID, properties("readDelay", "soon")));
        assertTrue(e.getReason().contains("setting 'readDelay': must be a duration"), e.getReason());
        e = assertThrows(ConfigurationException.class, () -> component.updated(PID, properties("readdelay", "5ms")));
        assertTrue(e.getReason().contains("setting 'readdelay': unknown setting"), e.getReason());
        e = assertThrows(ConfigurationException.class, () -> component.updated(PID, properties("writeDelay", -5)));
        assertTrue(e.getReason().contains("must not be negative"), e.getReason());
        e = assertThrows(ConfigurationException.class, () -> component.updated(PID, properties("writeDelay", "2h")));
        assertTrue(e.getReason().contains("must be at most 3600s"), e.getReason());
        e = assertThrows(ConfigurationException.class,
                () -> component.updated("org.diskhost.delay.1", properties("readDelay", "5ms")));
        assertTrue(e.getReason().contains("diskhost.name: missing"), e.getReason());
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20)), delaysOf(disk));
    }

    @Test
    void frameworkPropertiesAreIgnored() throws Exception {
        Disk disk = open("live", "10ms", "20ms");
        component.updated(PID, properties("service.pid", PID, "service.factoryPid", "org.diskhost.delay",
                "felix.fileinstall.filename", "x.cfg", "readDelay", 12L));
        assertEquals(Duration.ofMillis(12), delaysOf(disk).getFirst());
    }

    /**
     * A bundle update: the new component knows no runtime change until Configuration Admin redelivers it, so the
     * rebuilt delay disk inherits the delays in force from its predecessor; a redelivered or deleted change wins.
     */
    @Test
    void aRuntimeChangeIsHandedToTheRebuiltChain() throws ConfigurationException {
        Map<String, Object> spec = Map.of("kind", "delay", "readDelay", "1ms", "writeDelay", "2ms",
                "disk", Map.of("kind", "memory"));
        ResolvedChain old = resolution.resolve("swap", spec, false).join();
        component.updated(PID, properties("diskhost.name", "swap", "readDelay", "30ms", "writeDelay", "40ms"));
        org.diskhost.api.handover.Handover handover = old.handOver();
        old.close();

        LiveDelays newLive = new LiveDelays();
        DelayComponent updated = new DelayComponent(newLive, timer);
        ResolvedChain rebuilt = ResolvedChain.resolve("swap", org.diskhost.api.resolve.DiskSpec.parse("swap", spec,
                Path.of(".")), false, Map.of("memory", new MemoryDiskResolver(), "delay",
                        (org.diskhost.api.resolve.DiskResolver) updated)::get, kind -> null, handover).join();
        chains.add(rebuilt);
        assertEquals(List.of(Duration.ofMillis(30), Duration.ofMillis(40)), delaysOf(rebuilt.disk()),
                "inherited from the runtime change");
        assertTrue(InspectTree.of(rebuilt.disk()).toString().contains(PID), "inspect says where they come from");

        updated.updated(PID, properties("diskhost.name", "swap", "readDelay", "5ms"));
        assertEquals(List.of(Duration.ofMillis(5), Duration.ofMillis(2)), delaysOf(rebuilt.disk()),
                "the redelivered change applies");
        updated.deleted(PID);
        assertEquals(List.of(Duration.ofMillis(1), Duration.ofMillis(2)), delaysOf(rebuilt.disk()),
                "deleting it returns to the spec, not to the inherited delays");
    }
}
