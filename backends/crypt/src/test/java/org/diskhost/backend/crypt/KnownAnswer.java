package org.diskhost.backend.crypt;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One XTS-AES-256 known-answer vector from {@code xts-aes-256-vectors.txt}: a 64-byte key, the number of the data
 * unit, and one data unit of plaintext and ciphertext.
 */
record KnownAnswer(String name, byte[] key, long unit, byte[] plaintext, byte[] ciphertext) {
    private static final String FILE = "xts-aes-256-vectors.txt";

    @Override
    public String toString() {
        return name;
    }

    /** Every vector of the file, in order. */
    static List<KnownAnswer> all() {
        String text;
        try (InputStream in = KnownAnswer.class.getResourceAsStream(FILE)) {
            if (in == null) {
                throw new IllegalStateException(FILE + " is not on the test class path");
            }
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<KnownAnswer> out = new ArrayList<>();
        String name = null;
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : (text + "\n[end]").lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[")) {
                if (name != null) {
                    out.add(of(name, fields));
                }
                name = line.substring(1, line.length() - 1);
                fields.clear();
                continue;
            }
            String[] pair = line.split(" = ", 2);
            fields.put(pair[0].trim(), pair[1].trim());
        }
        return out;
    }

    private static KnownAnswer of(String name, Map<String, String> fields) {
        HexFormat hex = HexFormat.of();
        return new KnownAnswer(name, hex.parseHex(fields.get("key")),
                new BigInteger(fields.get("unit"), 16).longValueExact(), hex.parseHex(fields.get("plaintext")),
                hex.parseHex(fields.get("ciphertext")));
    }
}
