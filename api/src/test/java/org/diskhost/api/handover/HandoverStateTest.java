package org.diskhost.api.handover;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class HandoverStateTest {
    private final byte[] chunk = {1, 2, 3};
    private final HandoverState state = new HandoverState("org.example.ram", 2, Map.of("count", 7L, "size", 512,
            "name", "a", "delay", Duration.ofMillis(5), "on", true, "chunks", List.of(chunk), "index", new long[] {9}));

    @Test
    void typedValuesReadBackAndArraysAreHandedOverNotCopied() {
        assertEquals(7L, state.number("count"));
        assertEquals(512, state.integer("size"));
        assertEquals("a", state.string("name"));
        assertEquals(Duration.ofMillis(5), state.duration("delay"));
        assertEquals(true, state.bool("on"));
        assertSame(chunk, state.list("chunks", byte[].class).getFirst());
        assertArrayEquals(new long[] {9}, state.longs("index"));
    }

    @Test
    void aMissingOrMistypedValueSaysWhich() {
        assertEquals("handover state org.example.ram v2 has no 'gone'",
                assertThrows(IllegalArgumentException.class, () -> state.number("gone")).getMessage());
        assertEquals("handover state org.example.ram v2: 'name' is a String, not a Long",
                assertThrows(IllegalArgumentException.class, () -> state.number("name")).getMessage());
        assertEquals("handover state org.example.ram: 'chunks' holds a byte[], not a String",
                assertThrows(IllegalArgumentException.class, () -> state.list("chunks", String.class)).getMessage());
    }

    @Test
    void onlyJdkValuesCrossClassLoaders() {
        record Mine(int x) {
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HandoverState("f", 1, Map.of("v", List.of(new Mine(1)))));
        assertEquals(true, e.getMessage().startsWith("handover state f: 'v' is a "), e.getMessage());
    }

    @Test
    void anImporterRefusesOtherFormatsAndNewerVersions() {
        assertSame(state, state.require("org.example.ram", 2));
        assertSame(state, state.require("org.example.ram", 3));
        assertEquals("handed-over state org.example.ram is version 2, newer than version 1 that this backend reads",
                assertThrows(IllegalArgumentException.class, () -> state.require("org.example.ram", 1)).getMessage());
        assertEquals("handed-over state is org.example.ram, not org.example.delay",
                assertThrows(IllegalArgumentException.class, () -> state.require("org.example.delay", 9))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HandoverState("f", 0, Map.of()));
    }
}
