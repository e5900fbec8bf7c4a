package org.diskhost.backend.crypt;

import java.util.Arrays;

import javax.crypto.spec.SecretKeySpec;

/**
 * An XTS-AES-256 key: two different AES-256 keys, the data key and the tweak key. Not a record, so that no generated
 * {@code toString}, {@code equals} or {@code hashCode} ever touches the key material; {@link #toString()} names no
 * byte of it.
 */
public final class XtsKey {
    /** The length of a key in bytes: the data key, then the tweak key. */
    public static final int BYTES = 64;
    private static final int HALF = BYTES / 2;

    private final SecretKeySpec dataKey;
    private final SecretKeySpec tweakKey;

    private XtsKey(byte[] key) {
        this.dataKey = new SecretKeySpec(key, 0, HALF, "AES");
        this.tweakKey = new SecretKeySpec(key, HALF, HALF, "AES");
    }

    /**
     * The key in {@code bytes}: 64 bytes, the data key first and the tweak key second (IEEE 1619 and OpenSSL order).
     * The key keeps its own copy; the caller should wipe {@code bytes}.
     *
     * @throws IllegalArgumentException when the length is not 64 bytes or the two halves are equal (IEEE 1619 asks
     *         for different halves; OpenSSL refuses equal ones); the message never contains key material
     */
    public static XtsKey of(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("must be " + BYTES + " bytes (the data key, then the tweak key), got "
                    + bytes.length + " bytes");
        }
        if (Arrays.equals(bytes, 0, HALF, bytes, HALF, BYTES)) {
            throw new IllegalArgumentException("the data key and the tweak key (the two 32-byte halves) must differ");
        }
        return new XtsKey(bytes);
    }

    SecretKeySpec dataKey() {
        return dataKey;
    }

    SecretKeySpec tweakKey() {
        return tweakKey;
    }

    @Override
    public String toString() {
        return "XtsKey[AES-256 data key, AES-256 tweak key]";
    }
}
