package org.diskhost.api.change;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class LiveChangesTest {
    record Change(String source, String diskName, int value) implements DiskChange {
    }

    /** A live object: what it was last given, and a value it inherited until superseded. */
    static final class Live {
        final String disk;
        final List<String> log = new ArrayList<>();
        Integer inherited;
        int value;

        Live(String disk, Integer inherited) {
            this.disk = disk;
            this.inherited = inherited;
        }
    }

    private final LiveChanges<Live, Change> live = new LiveChanges<>(l -> l.disk, new LiveChanges.Target<>() {
        @Override
        public void apply(Live l, Optional<Change> change) {
            l.value = change.map(Change::value).orElse(l.inherited == null ? 0 : l.inherited);
            l.log.add(change.map(Change::source).orElse("none"));
        }

        @Override
        public void superseded(Live l) {
            l.inherited = null;
        }
    });

    @Test
    void anObjectGetsTheChangeInForceWhenItRegistersAndOnEveryUpdateAndDelete() {
        live.update(new Change("a", "d", 1));
        Live l = new Live("d", null);
        live.register(l);
        assertEquals(1, l.value, "a change made before the object opened applies when it registers");
        live.update(new Change("b", "d", 2));
        assertEquals(2, l.value, "the last updated change is in force");
        live.update(new Change("a", "d", 3));
        assertEquals(3, l.value, "updating an older change makes it the last updated");
        live.delete("a");
        assertEquals(2, l.value, "deleting the change in force brings back the one before");
        assertEquals(Optional.of(new Change("b", "d", 2)), live.delete("b"));
        assertEquals(0, l.value);
        assertEquals(List.of("a", "b", "a", "b", "none"), l.log);
        assertEquals(Optional.empty(), live.delete("b"), "deleting an unknown source changes nothing");
        assertEquals(5, l.log.size());
    }

    @Test
    void aRenamedChangeLeavesItsOldDiskAndOtherDisksAreUntouched() {
        Live d = new Live("d", null);
        Live e = new Live("e", null);
        live.register(d);
        live.register(e);
        live.update(new Change("a", "d", 1));
        assertEquals(List.of("none"), e.log, "a change for d does not reach e");
        live.update(new Change("a", "e", 4));
        assertEquals(0, d.value, "d lost the change that now names e");
        assertEquals(4, e.value);
        assertEquals(Optional.of(new Change("a", "e", 4)), live.changeFor("e"));
        assertEquals(Optional.empty(), live.changeFor("d"));
    }

    @Test
    void anInheritedValueHoldsUntilAChangeForTheDiskIsUpdatedOrDeleted() {
        Live l = new Live("d", 7);
        live.update(new Change("x", "other", 1));
        live.register(l);
        assertEquals(7, l.value, "no change for d yet: the inherited value holds");
        live.update(new Change("x", "d", 2));
        live.delete("x");
        assertEquals(0, l.value, "once superseded, deleting the change returns to the spec, not the inherited value");
    }

    @Test
    void unregisteredObjectsGetNoMoreChanges() {
        Live a = new Live("d", null);
        Live b = new Live("d", null);
        live.register(a);
        live.register(b);
        assertEquals(List.of(a, b), live.live("d"));
        live.unregister(a);
        live.update(new Change("s", "d", 5));
        assertEquals(0, a.value);
        assertEquals(5, b.value);
        live.unregister(b);
        assertTrue(live.live("d").isEmpty());
    }
}
