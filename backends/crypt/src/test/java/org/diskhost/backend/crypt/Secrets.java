package org.diskhost.backend.crypt;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/** Checks that text (a message, a log line, an inspection) holds no piece of a key. */
final class Secrets {
    /** Any 8 consecutive key bytes count as a leak, whatever the rendering. */
    private static final int WINDOW = 8;

    private Secrets() {
    }

    /** Fails when {@code text} contains any 8 consecutive bytes of {@code key} as hex (either case) or as decimals. */
    static void assertNoKeyMaterial(byte[] key, String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        for (int i = 0; i + WINDOW <= key.length; i++) {
            byte[] piece = Arrays.copyOfRange(key, i, i + WINDOW);
            String hex = HexFormat.of().formatHex(piece);
            String decimals = Arrays.toString(piece);
            if (lower.contains(hex) || text.contains(decimals.substring(1, decimals.length() - 1))) {
                fail("key bytes " + i + ".." + (i + WINDOW - 1) + " appear in: " + text);
            }
        }
    }
}
