package org.diskhost.backend.crypt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.diskhost.testkit.DiskAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The cipher on its own: the published vectors, and agreement with itself however the memory is split. */
class XtsAes256Test {
    /** The key of IEEE 1619's XTS-AES-256 vectors: digits of e, then digits of pi. */
    static final byte[] IEEE_KEY = HexFormat.of().parseHex(
            "2718281828459045235360287471352662497757247093699959574966967627"
                    + "3141592653589793238462643383279502884197169399375105820974944592");

    static List<KnownAnswer> vectors() {
        return KnownAnswer.all();
    }

    private static XtsAes256 cipher(byte[] key, int unitBytes) {
        return new XtsAes256(XtsKey.of(key), unitBytes);
    }

    private static byte[] encrypt(XtsAes256 xts, byte[] plaintext, long firstUnit) {
        byte[] out = new byte[plaintext.length];
        xts.encrypt(List.of(MemorySegment.ofArray(plaintext)), List.of(MemorySegment.ofArray(out)), plaintext.length,
                firstUnit);
        return out;
    }

    private static byte[] decrypt(XtsAes256 xts, byte[] ciphertext, long firstUnit) {
        byte[] out = new byte[ciphertext.length];
        xts.decrypt(List.of(MemorySegment.ofArray(ciphertext)), List.of(MemorySegment.ofArray(out)),
                ciphertext.length, firstUnit);
        return out;
    }

    /** {@code data} cut into segments of awkward sizes (1, 7, 13, 100, ... bytes), each on its own memory. */
    private static List<MemorySegment> scattered(byte[] data) {
        List<MemorySegment> out = new ArrayList<>();
        int[] cuts = {1, 7, 13, 100, 3, 250};
        int at = 0;
        for (int i = 0; at < data.length; i++) {
            int n = Math.min(cuts[i % cuts.length], data.length - at);
            MemorySegment piece = DiskAssertions.allocate(n + 5).asSlice(5, n); // not 8-byte aligned either
            MemorySegment.copy(MemorySegment.ofArray(data), at, piece, 0, n);
            out.add(piece);
            at += n;
        }
        return out;
    }

    private static byte[] join(List<MemorySegment> segments) {
        byte[] out = new byte[(int) segments.stream().mapToLong(MemorySegment::byteSize).sum()];
        int at = 0;
        for (MemorySegment s : segments) {
            MemorySegment.copy(s, 0, MemorySegment.ofArray(out), at, s.byteSize());
            at += (int) s.byteSize();
        }
        return out;
    }

    @Test
    void theVectorFileHoldsEveryIeee1619XtsAes256Vector() {
        List<String> names = vectors().stream().map(KnownAnswer::name).toList();
        for (int n = 10; n <= 14; n++) {
            assertTrue(names.contains("IEEE 1619 vector " + n), names.toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void encryptsToTheKnownAnswer(KnownAnswer v) {
        XtsAes256 xts = cipher(v.key(), v.plaintext().length);
        assertEquals(HexFormat.of().formatHex(v.ciphertext()),
                HexFormat.of().formatHex(encrypt(xts, v.plaintext(), v.unit())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void decryptsTheKnownAnswer(KnownAnswer v) {
        XtsAes256 xts = cipher(v.key(), v.plaintext().length);
        assertArrayEquals(v.plaintext(), decrypt(xts, v.ciphertext(), v.unit()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void scatteredUnalignedMemoryGivesTheSameAnswerAndDecryptsInPlace(KnownAnswer v) {
        XtsAes256 xts = cipher(v.key(), v.plaintext().length);
        List<MemorySegment> from = scattered(v.plaintext());
        List<MemorySegment> to = scattered(new byte[v.plaintext().length]);
        xts.encrypt(from, to, v.plaintext().length, v.unit());
        assertArrayEquals(v.ciphertext(), join(to));
        xts.decrypt(to, to, v.plaintext().length, v.unit());
        assertArrayEquals(v.plaintext(), join(to));
    }

    /** Units take consecutive numbers; requests longer than one engine chunk continue the numbering. */
    @Test
    void manyUnitsAreEachEncipheredUnderTheirOwnNumber() {
        for (int unit : new int[] {512, 4096}) {
            XtsAes256 xts = cipher(IEEE_KEY, unit);
            int units = 3 * XtsAes256.CHUNK_BYTES / unit + 3; // spans four chunks
            byte[] plaintext = new byte[units * unit];
            DiskAssertions.pattern(MemorySegment.ofArray(plaintext), unit);
            long first = 0xffff_fff0L; // crosses 2^32
            byte[] whole = encrypt(xts, plaintext, first);
            for (int u = 0; u < units; u++) {
                byte[] one = Arrays.copyOfRange(plaintext, u * unit, (u + 1) * unit);
                assertArrayEquals(encrypt(xts, one, first + u), Arrays.copyOfRange(whole, u * unit, (u + 1) * unit),
                        "unit " + u + " of " + unit + " bytes");
            }
            assertArrayEquals(plaintext, decrypt(xts, whole, first));
        }
    }

    @Test
    void theTweakMatters() {
        XtsAes256 xts = cipher(IEEE_KEY, 32);
        byte[] zeros = new byte[32];
        assertFalse(Arrays.equals(encrypt(xts, zeros, 0), encrypt(xts, zeros, 1)));
        assertFalse(Arrays.equals(encrypt(xts, zeros, 1), encrypt(xts, zeros, 1L << 32)));
        assertFalse(Arrays.equals(encrypt(xts, zeros, 0), zeros));
    }

    @Test
    void anEmptyRequestDoesNothing() {
        XtsAes256 xts = cipher(IEEE_KEY, 512);
        xts.encrypt(List.of(), List.of(), 0, 7);
    }

    @Test
    void lengthsMustBeWholeDataUnits() {
        XtsAes256 xts = cipher(IEEE_KEY, 512);
        byte[] odd = new byte[700];
        assertThrows(IllegalArgumentException.class, () -> encrypt(xts, odd, 0));
    }

    @Test
    void dataUnitsAreWholeBlocks() {
        XtsKey key = XtsKey.of(IEEE_KEY);
        assertThrows(IllegalArgumentException.class, () -> new XtsAes256(key, 24));
        assertThrows(IllegalArgumentException.class, () -> new XtsAes256(key, 0));
        assertEquals(128 * 1024, new XtsAes256(key, 128 * 1024).unitBytes()); // larger than a chunk works too
    }

    @Test
    void concurrentCallersGetTheSameAnswers() throws Exception {
        XtsAes256 xts = cipher(IEEE_KEY, 512);
        byte[] plaintext = DiskAssertions.pattern(64 * 1024, 3).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] expected = encrypt(xts, plaintext, 1000);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(() -> Arrays.equals(expected, encrypt(xts, plaintext, 1000))
                        && Arrays.equals(plaintext, decrypt(xts, expected, 1000))));
            }
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aKeyIsTwoDifferentAes256Keys() {
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
                () -> XtsKey.of(Arrays.copyOf(IEEE_KEY, 32)));
        assertEquals("must be 64 bytes (the data key, then the tweak key), got 32 bytes", shortKey.getMessage());
        byte[] same = new byte[64];
        Arrays.fill(same, (byte) 0xab);
        IllegalArgumentException equalHalves = assertThrows(IllegalArgumentException.class, () -> XtsKey.of(same));
        assertEquals("the data key and the tweak key (the two 32-byte halves) must differ", equalHalves.getMessage());
    }

    @Test
    void neitherTheKeyNorTheCipherShowsKeyMaterial() {
        XtsKey key = XtsKey.of(IEEE_KEY);
        XtsAes256 xts = new XtsAes256(key, 512);
        for (String text : List.of(key.toString(), xts.toString())) {
            Secrets.assertNoKeyMaterial(IEEE_KEY, text);
        }
    }
}
