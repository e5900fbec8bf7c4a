package org.diskhost.api.change;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Hashtable;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RuntimeChangeTest {
    @Test
    void theDiskIsNamedByPropertyOrByTheNamedFactoryConfiguration() {
        RuntimeChange byPid = RuntimeChange.parse("org.example.x~demo", Map.of("delay", "5ms"), "x", "delay");
        assertEquals("demo", byPid.diskName());
        assertEquals("org.example.x~demo", byPid.source());
        RuntimeChange byProperty = RuntimeChange.parse("org.example.x~demo",
                Map.of(RuntimeChange.NAME, "other", "delay", "5ms"), "x", "delay");
        assertEquals("other", byProperty.diskName());
        assertEquals("other", byProperty.settings().diskName());
        assertEquals("x", byProperty.settings().kind());
    }

    @Test
    void frameworkPropertiesAreLeftOutAndTheRestAreTheSettings() {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("service.pid", "org.example.x~d");
        properties.put("service.factoryPid", "org.example.x");
        properties.put("felix.fileinstall.filename", "file:/x.cfg");
        properties.put("component.name", "c");
        properties.put("diskhost.note", "anything");
        properties.put("delay", "5ms");
        RuntimeChange change = RuntimeChange.parse("org.example.x~d", RuntimeChange.properties(properties), "x", "delay", "other");
        assertEquals(Map.of("delay", "5ms"), change.settings().values());
        assertEquals(Duration.ofMillis(5), change.read(s -> s.duration("delay", Duration.ZERO)));
    }

    @Test
    void errorsNameTheProperty() {
        IllegalArgumentException noName = assertThrows(IllegalArgumentException.class,
                () -> RuntimeChange.parse("org.example.x", Map.of("delay", 1), "x", "delay"));
        assertEquals("diskhost.name: missing; name the disk that configuration org.example.x changes (kind 'x')",
                noName.getMessage());
        IllegalArgumentException misspelt = assertThrows(IllegalArgumentException.class,
                () -> RuntimeChange.parse("org.example.x~d", Map.of("dleay", 1), "x", "delay"));
        assertEquals("disk 'd', kind 'x', setting 'dleay': unknown setting for kind 'x' (known: delay)",
                misspelt.getMessage());
        RuntimeChange change = RuntimeChange.parse("org.example.x~d", Map.of("delay", "soon"), "x", "delay");
        IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
                () -> change.read(s -> s.duration("delay", Duration.ZERO)));
        assertTrue(invalid.getMessage().startsWith("disk 'd', kind 'x', setting 'delay'"), invalid.getMessage());
    }
}
