package org.diskhost.host.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesWhatConfigurationsUse() {
        Map<String, Object> doc = Json.parseObject("""
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "64 MiB", "sectorSize": 4096,
                 "direct": false, "ratio": 1.5, "members": [1, "two", null], "esc": "a\\"b\\u0041"}}}""");
        @SuppressWarnings("unchecked")
        Map<String, Object> demo = (Map<String, Object>) ((Map<String, Object>) doc.get("disks")).get("demo");
        assertEquals(4096L, demo.get("sectorSize"));
        assertEquals(false, demo.get("direct"));
        assertEquals(1.5, demo.get("ratio"));
        assertEquals(java.util.Arrays.asList(1L, "two", null), demo.get("members"));
        assertEquals("a\"bA", demo.get("esc"));
        assertEquals(doc, Json.parseObject(Json.write(doc)), "write and parse round trip");
    }

    @Test
    void errorsGiveLineAndColumn() {
        Json.ParseException e = assertThrows(Json.ParseException.class,
                () -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2\n}"));
        assertTrue(e.getMessage().startsWith("line 3, column 7"), e.getMessage());
        assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": 1, \"a\": 2}"));
        assertThrows(Json.ParseException.class, () -> Json.parse("[1, 2"));
        assertThrows(Json.ParseException.class, () -> Json.parse("{} extra"));
        assertThrows(Json.ParseException.class, () -> Json.parse("\"unterminated"));
    }

    @Test
    void theConfigurationDocumentIsCheckedForShape() {
        assertEquals(List.of("a", "b"), List.copyOf(JsonConfigSource.readDisks(
                "{\"disks\": {\"a\": {\"kind\": \"file\"}, \"b\": {\"kind\": \"file\"}}}").keySet()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsonConfigSource.readDisks("{\"disks\": {\"a\": 5}}"));
        assertTrue(e.getMessage().contains("disk 'a'"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonConfigSource.readDisks("{\"disks\": "))
                .getMessage().contains("line 1"));
    }

    @Test
    void otherSectionsBecomeComponentConfigurations() {
        var components = JsonConfigSource.readComponents(JsonConfigSource.parse(
                "{\"disks\": {}, \"nbd\": {\"listen\": \"127.0.0.1:1\", \"maxConnections\": 8, "
                        + "\"exports\": [\"demo\", \"ro=demo;readOnly\"]}}"));
        assertEquals(List.of("org.diskhost.nbd"), List.copyOf(components.keySet()));
        var nbd = components.get("org.diskhost.nbd");
        assertEquals("127.0.0.1:1", nbd.get("listen"));
        assertEquals(8L, nbd.get("maxConnections"));
        assertEquals(List.of("demo", "ro=demo;readOnly"), List.of((String[]) nbd.get("exports")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonConfigSource.readComponents(
                JsonConfigSource.parse("{\"nbd\": 5}"))).getMessage().contains("\"nbd\" must be an object"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JsonConfigSource.readComponents(
                JsonConfigSource.parse("{\"nbd\": {\"exports\": [{}]}}"))).getMessage().contains("nbd.exports"));
    }

    @Test
    void hexDumpShowsOffsetsBytesAndText() {
        String dump = DiskCommands.hexDump(MemorySegment.ofArray("hello, world!!!!x".getBytes()), 512);
        assertTrue(dump.startsWith("000000000200  68 65 6c 6c 6f"), dump);
        assertTrue(dump.contains("hello, world!!!!"), dump);
        assertTrue(dump.contains("000000000210  78  x"), dump);
    }
}
