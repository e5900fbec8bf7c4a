package org.diskhost.backend.vhd.vhdx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

/** Parent locators: their encoding, and which of their paths a Linux host can try, in which order. */
class VhdxParentLocatorTest {
    private static final UUID LINKAGE = UUID.fromString("83ed0ec3-24c8-49a6-a959-5e4bf1288bfb");

    private static ParentLocator locator(String... keyValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return new ParentLocator(m);
    }

    @Test
    void encodesAndDecodes() {
        ParentLocator l = locator("parent_linkage", "{83ed0ec3-24c8-49a6-a959-5e4bf1288bfb}", "relative_path",
                "..\\b\\p.vhdx");
        assertEquals(l, ParentLocator.parse(l.encode()));
        assertEquals(LINKAGE, l.linkage("x"));
        assertEquals(LINKAGE, locator("parent_linkage", "{83ED0EC3-24C8-49A6-A959-5E4BF1288BFB}").linkage("x"));
    }

    @Test
    void windowsPathsBecomeCandidatesInTheSpecificationsOrder() {
        Path dir = Path.of("/images/a");
        assertEquals(List.of("/images/b/p.vhdx", "/srv/p.vhdx"), VhdxImage.candidatePaths(dir, locator(
                "parent_linkage", "{" + LINKAGE + "}",
                "absolute_win32_path", "\\\\?\\\\srv\\p.vhdx",
                "volume_path", "\\\\?\\Volume{26a21bda-a627-11d7-9931-806e6f6e6963}\\p.vhdx",
                "relative_path", "..\\b\\p.vhdx")));
        // Drive letters and UNC shares mean nothing here; a relative path alone is enough.
        assertEquals(List.of("/images/a/p.vhdx"), VhdxImage.candidatePaths(dir, locator(
                "absolute_win32_path", "\\\\?\\d:\\path2\\p.vhdx", "relative_path", ".\\p.vhdx")));
        assertEquals(List.of(), VhdxImage.candidatePaths(dir, locator(
                "absolute_win32_path", "\\\\?\\\\\\server\\share\\p.vhdx")));
    }

    @Test
    void malformedLocators() {
        assertThrows(IllegalArgumentException.class, () -> locator("parent_linkage", "{zz}").linkage("x"));
        assertThrows(IllegalArgumentException.class, () -> locator("relative_path", "p").linkage("x"));
        java.nio.ByteBuffer b = locator("relative_path", "p").encode();
        b.putShort(18, (short) 500); // more entries than the item holds
        assertThrows(IllegalArgumentException.class, () -> ParentLocator.parse(b));
        java.nio.ByteBuffer other = locator("a", "b").encode();
        other.put(0, (byte) 0); // another locator type
        assertThrows(IllegalArgumentException.class, () -> ParentLocator.parse(other));
    }
}
