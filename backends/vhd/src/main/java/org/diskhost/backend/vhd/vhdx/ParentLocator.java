package org.diskhost.backend.vhd.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The parent locator metadata item of a differencing VHDX: key/value pairs (UTF-16LE strings) that name the parent.
 * The keys VHDX defines are {@code parent_linkage} (the parent's data write GUID, in braces), {@code parent_linkage2},
 * {@code relative_path}, {@code volume_path} and {@code absolute_win32_path}.
 *
 * @param entries the pairs in file order; unmodifiable
 */
record ParentLocator(Map<String, String> entries) {
    static final UUID VHDX_LOCATOR_TYPE = UUID.fromString("b04aefb7-d19e-4a81-b789-25b8e9445913");
    private static final int HEADER = 20;
    private static final int ENTRY = 12;

    ParentLocator {
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** The {@code parent_linkage} GUID, which must equal the parent's data write GUID. */
    UUID linkage(String where) throws IllegalArgumentException {
        String value = entries.get("parent_linkage");
        if (value == null) {
            throw new IllegalArgumentException(where + " has no parent_linkage entry");
        }
        String s = value.strip();
        if (s.startsWith("{") && s.endsWith("}")) {
            s = s.substring(1, s.length() - 1);
        }
        try {
            if (s.length() != 36) {
                throw new IllegalArgumentException("not 36 characters");
            }
            return UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": parent_linkage \"" + value + "\" is not a GUID");
        }
    }

    Optional<String> get(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /**
     * Decodes the item in {@code item} (position to limit).
     *
     * @throws IllegalArgumentException with a message naming the fault; the caller adds the file and structure
     */
    static ParentLocator parse(ByteBuffer item) {
        ByteBuffer b = item.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < HEADER) {
            throw new IllegalArgumentException("is " + b.remaining() + " bytes, shorter than its 20-byte header");
        }
        UUID type = Guids.read(b, 0);
        if (!type.equals(VHDX_LOCATOR_TYPE)) {
            throw new IllegalArgumentException("has locator type " + type + ", not the VHDX parent locator "
                    + VHDX_LOCATOR_TYPE);
        }
        int count = Short.toUnsignedInt(b.getShort(18));
        if (HEADER + (long) count * ENTRY > b.remaining()) {
            throw new IllegalArgumentException("declares " + count + " entries, more than its "
                    + b.remaining() + " bytes hold");
        }
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            int e = HEADER + ENTRY * i;
            String key = string(b, b.getInt(e), b.getShort(e + 8), "key of entry " + i);
            String value = string(b, b.getInt(e + 4), b.getShort(e + 10), "value of entry " + i);
            if (key.isEmpty() || entries.putIfAbsent(key, value) != null) {
                throw new IllegalArgumentException("has an empty or repeated key \"" + key + "\"");
            }
        }
        return new ParentLocator(entries);
    }

    private static String string(ByteBuffer b, int offset, short length, String what) {
        long off = Integer.toUnsignedLong(offset);
        int len = Short.toUnsignedInt(length);
        if (len % 2 != 0 || off < HEADER || off + len > b.remaining()) {
            throw new IllegalArgumentException("has the " + what + " at offset " + off + " length " + len
                    + ", outside the item (" + b.remaining() + " bytes) or of odd length");
        }
        byte[] bytes = new byte[len];
        b.get((int) off, bytes);
        return new String(bytes, StandardCharsets.UTF_16LE);
    }

    /** The item's encoding: header, entry table, then the strings. */
    ByteBuffer encode() {
        int size = HEADER + ENTRY * entries.size();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            size += 2 * (e.getKey().length() + e.getValue().length());
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        Guids.write(b, 0, VHDX_LOCATOR_TYPE);
        b.putShort(18, (short) entries.size());
        int next = HEADER + ENTRY * entries.size();
        int i = 0;
        for (Map.Entry<String, String> e : entries.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.UTF_16LE);
            byte[] value = e.getValue().getBytes(StandardCharsets.UTF_16LE);
            int entry = HEADER + ENTRY * i++;
            b.putInt(entry, next);
            b.putShort(entry + 8, (short) key.length);
            b.put(next, key);
            next += key.length;
            b.putInt(entry + 4, next);
            b.putShort(entry + 10, (short) value.length);
            b.put(next, value);
            next += value.length;
        }
        return b;
    }
}
