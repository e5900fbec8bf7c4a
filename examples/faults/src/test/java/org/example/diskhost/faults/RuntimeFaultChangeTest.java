package org.example.diskhost.faults;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.MemoryDisk;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.ConfigurationException;

/**
 * Runtime changes as Configuration Admin delivers them to the component (a managed service factory), applied to live
 * disks in place, and handed to the disk that replaces one in a rebuilt chain.
 */
class RuntimeFaultChangeTest {
    private static final String PID = FaultsComponent.FACTORY_PID + "~live";

    private final LiveFaults live = new LiveFaults();
    private final FaultsComponent component = new FaultsComponent(live);
    private final StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), new MemoryDiskResolver(),
            component);
    private final List<ResolvedChain> chains = new ArrayList<>();

    @AfterEach
    void close() {
        chains.forEach(ResolvedChain::close);
    }

    /** Disk {@code name}: faults with rate 0 (off) on reads of sectors 8..15, over memory. */
    private Disk open(String name) {
        ResolvedChain chain = resolution.resolve(name, Map.of("kind", "faults", "ops", "read", "rate", 0, "from", 8,
                "count", 8, "disk", Map.of("kind", "memory")), false).join();
        chains.add(chain);
        return chain.disk();
    }

    private static CompletableFuture<Void> read(Disk disk, long sector) {
        return disk.readVectored(RequestBuffers.of(allocate(512), true), sector);
    }

    private static Hashtable<String, Object> properties(Object... keyValues) {
        Hashtable<String, Object> p = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put((String) keyValues[i], keyValues[i + 1]);
        }
        return p;
    }

    @Test
    void aChangeTurnsFaultsOnAndOffInPlace() throws Exception {
        Disk disk = open("live");
        succeeds(read(disk, 8));
        component.updated(PID, properties("rate", 1.0, "error", "medium"));
        assertInstanceOf(DiskError.MediumError.class, fails(read(disk, 8)));
        succeeds(read(disk, 16)); // the spec's range still applies
        component.updated(PID, properties("rate", "0"));
        succeeds(read(disk, 8));
        component.updated(PID, properties("rate", 1L, "from", 0L, "count", 1L, "ops", new String[] {"read", "write"}));
        fails(read(disk, 0));
        succeeds(read(disk, 8));
        component.deleted(PID);
        succeeds(read(disk, 0));
        succeeds(read(disk, 8));
        assertEquals("spec", live.disks("live").getFirst().source());
    }

    @Test
    void aChangeNamesItsDiskByProperty() throws Exception {
        Disk mine = open("mine");
        Disk other = open("other");
        component.updated(FaultsComponent.FACTORY_PID + "~x", properties("diskhost.name", "mine", "rate", "100%"));
        fails(read(mine, 9));
        succeeds(read(other, 9));
    }

    @Test
    void aChangeMadeBeforeTheDiskOpensAppliesWhenItDoes() throws Exception {
        component.updated(PID, properties("rate", 1));
        fails(read(open("live"), 8));
    }

    @Test
    void anInvalidChangeIsRefusedNamingTheSettingAndChangesNothing() throws Exception {
        Disk disk = open("live");
        component.updated(PID, properties("rate", 1));
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> component.updated(PID, properties("rate", 0, "error", "eio")));
        assertTrue(e.getReason().startsWith("disk 'live', kind 'faults', setting 'error': unknown error \"eio\""),
                e.getReason());
        fails(read(disk, 8)); // still the previous change
        e = assertThrows(ConfigurationException.class, () -> component.updated(PID, properties("rat", 0)));
        assertTrue(e.getReason().contains("setting 'rat': unknown setting for kind 'faults'"), e.getReason());
        e = assertThrows(ConfigurationException.class, () -> component.updated(PID, properties("file", "rel")));
        assertTrue(e.getReason().contains("setting 'file': must be an absolute path in a runtime change"),
                e.getReason());
        e = assertThrows(ConfigurationException.class,
                () -> component.updated(FaultsComponent.FACTORY_PID, properties("rate", 1)));
        assertTrue(e.getReason().contains("diskhost.name: missing"), e.getReason());
    }

    @Test
    void theDiskOfARebuiltChainTakesOverTheChangeInForce() throws Exception {
        Disk disk = open("live");
        component.updated(PID, properties("rate", 1, "error", "reservationConflict"));
        FaultsDisk old = live.disks("live").getFirst();
        HandoverState state = old.export();

        // The successor, as a new bundle version builds it: its own registry, which has not heard of the change.
        LiveFaults successorLive = new LiveFaults();
        FaultsDisk successor = new FaultsDisk(Disk.of(MemoryDisk.of(512, 256)), "live", Map.of("ops", "read",
                "rate", 0L, "from", 8L, "count", 8L), successorLive);
        successor.inherit(state);
        successorLive.register(successor);
        assertInstanceOf(DiskError.ReservationConflict.class, fails(read(Disk.of(successor), 8)));
        assertEquals(PID, successor.source());

        // When Configuration Admin redelivers the change, or deletes it, the successor follows that instead.
        successorLive.delete(PID);
        successorLive.update(FaultChange.parse(PID, Map.of("rate", "0")));
        succeeds(read(Disk.of(successor), 8));
        assertEquals(1, successor.rule().ops().size());
        succeeds(read(disk, 16));
    }

    @Test
    void aStateFromANewerVersionIsRefused() {
        FaultsDisk disk = new FaultsDisk(Disk.of(MemoryDisk.of(512, 64)), "live", Map.of(), new LiveFaults());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> disk.inherit(
                new HandoverState(FaultsDisk.HANDOVER_FORMAT, 2, Map.of("source", "x", "settings", Map.of()))));
        assertTrue(e.getMessage().contains("version 2, newer than version 1"), e.getMessage());
    }
}
