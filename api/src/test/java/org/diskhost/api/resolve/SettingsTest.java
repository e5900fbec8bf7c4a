package org.diskhost.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SettingsTest {
    private static final Path BASE = Path.of("/srv/disks");

    private static ResolveError.ParseError parseError(Runnable action) {
        ResolveException e = assertThrows(ResolveException.class, action::run);
        return (ResolveError.ParseError) e.error();
    }

    @Test
    void sizesAcceptNumbersAndUnits() {
        Settings s = Settings.of("d", "file", Map.of("a", 4096L, "b", "64 MiB", "c", "2G", "e", "1kB", "f", "7"),
                BASE);
        assertEquals(4096, s.size("a"));
        assertEquals(64L << 20, s.size("b"));
        assertEquals(2L << 30, s.size("c"));
        assertEquals(1000, s.size("e"));
        assertEquals(7, s.size("f"));
        assertFalse(s.optionalSize("missing").isPresent());
    }

    @Test
    void errorsNameTheDiskTheKindAndTheSetting() {
        Settings s = Settings.of("demo", "file", Map.of("create", "lots", "readOnly", "maybe"), BASE);
        ResolveError.ParseError size = parseError(() -> s.size("create"));
        assertEquals("demo", size.disk());
        assertEquals("file", size.kind());
        assertEquals("create", size.setting());
        assertTrue(size.message().contains("disk 'demo', kind 'file', setting 'create'"), size.message());
        assertEquals("readOnly", parseError(() -> s.bool("readOnly", false)).setting());
        ResolveError.ParseError missing = parseError(() -> s.string("path"));
        assertTrue(missing.problem().startsWith("missing"), missing.problem());
        assertEquals("64x", parseError(() -> Settings.of("d", "k", Map.of("64x", 1), BASE).allowOnly("path"))
                .setting());
    }

    @Test
    void nestedDisksCarryTheirPathIntoErrors() {
        Map<String, Object> inner = Map.of("kind", "file", "path", 12L);
        Settings outer = Settings.of("demo", "striped", Map.of("members", List.of(inner, inner)), BASE);
        List<DiskSpec> members = outer.disks("members");
        assertEquals(2, members.size());
        assertEquals("file", members.get(1).kind());
        ResolveError.ParseError error = parseError(() -> members.get(1).settings().string("path"));
        assertEquals("members[1].path", error.setting());
        assertEquals("file", error.kind());
        ResolveError.ParseError noKind = parseError(() -> Settings.of("demo", "crypt", Map.of("disk", Map.of()),
                BASE).disk("disk"));
        assertEquals("disk.kind", noKind.setting());
    }

    @Test
    void relativePathsResolveAgainstTheBaseDirectory() {
        Settings s = Settings.of("d", "file", Map.of("p", "a/b.img", "q", "/abs.img"), BASE);
        assertEquals(Path.of("/srv/disks/a/b.img"), s.path("p"));
        assertEquals(Path.of("/abs.img"), s.path("q"));
    }

    @Test
    void durationsAndIntegers() {
        Settings s = Settings.of("d", "delay", Map.of("a", 250L, "b", "2s", "c", "100us", "n", 3.0), BASE);
        assertEquals(Duration.ofMillis(250), s.duration("a", Duration.ZERO));
        assertEquals(Duration.ofSeconds(2), s.duration("b", Duration.ZERO));
        assertEquals(Duration.ofNanos(100_000), s.duration("c", Duration.ZERO));
        assertEquals(3, s.integer("n", 0));
        assertEquals(5, s.integer("absent", 5));
    }

    @Test
    void hexNeverEchoesTheValue() {
        Settings s = Settings.of("d", "crypt", Map.of("key", "secretzz", "number", 1234567890123456789L), BASE);
        ResolveError.ParseError error = parseError(() -> s.optionalHex("key"));
        assertFalse(error.message().contains("secret"), error.message());
        ResolveError.ParseError notAString = parseError(() -> s.optionalHex("number"));
        assertEquals("must be a string of hex digits", notAString.problem());
    }

    /** The host compares specs to tell a real configuration change from a repeated delivery. */
    @Test
    void specsParsedFromEqualConfigurationsAreEqual() {
        Map<String, Object> config = Map.of("kind", "crypt", "disk", Map.of("kind", "file", "path", "a.img"));
        assertEquals(DiskSpec.parse("d", config, BASE), DiskSpec.parse("d", config, BASE));
        assertEquals(DiskSpec.parse("d", config, BASE).hashCode(), DiskSpec.parse("d", config, BASE).hashCode());
        assertFalse(DiskSpec.parse("d", config, BASE).equals(DiskSpec.parse("e", config, BASE)));
        assertFalse(DiskSpec.parse("d", config, BASE).equals(
                DiskSpec.parse("d", Map.of("kind", "crypt", "disk", Map.of("kind", "file", "path", "b.img")), BASE)));
    }

    @Test
    void withoutKeepsThePlaceInTheChainAndTheBaseDirectory() {
        Settings s = Settings.of("d", "layered", Map.of("layers", List.of(Map.of("kind", "ram", "size", "1M",
                "readCache", true))), BASE);
        Settings layer = s.disks("layers").getFirst().settings();
        Settings rest = layer.without("readCache", "absent");
        assertEquals(List.of("size"), List.copyOf(rest.names()));
        assertTrue(layer.has("readCache"), "the original is unchanged");
        assertEquals("disk 'd', kind 'ram', setting 'layers[0].size': bad",
                rest.invalid("size", "bad").error().message());
        assertEquals(BASE.resolve("x"), Settings.of("d", "k", Map.of("p", "x", "q", 1), BASE).without("q").path("p"));
    }
}
