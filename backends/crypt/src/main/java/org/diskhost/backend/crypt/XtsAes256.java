package org.diskhost.backend.crypt;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;
import java.util.List;

import javax.crypto.Cipher;

/**
 * XTS-AES-256 as IEEE 1619 defines it, for data units that are whole AES blocks (no ciphertext stealing).
 *
 * <p>The key ({@link XtsKey}) is two AES-256 keys: the data key and the tweak key. Data unit {@code n} is enciphered
 * under the tweak {@code n} as a 128-bit little-endian integer, so with one data unit per disk sector and {@code n}
 * the sector number this is dm-crypt's {@code aes-xts-plain64} (with {@code iv_large_sectors} for sectors above 512
 * bytes).
 *
 * <p>Thread-safe. Each call borrows an engine (its ciphers and scratch memory) from a small pool, so concurrent
 * callers never share cipher state and steady-state calls allocate nothing. The AES work is the JDK's
 * {@code AES/ECB/NoPadding} over a whole chunk per call, which HotSpot compiles to AES-NI or VAES; the tweak
 * arithmetic is done here. Nothing here reveals the key: not {@link #toString()}, not an exception message.
 */
public final class XtsAes256 {
    /** How many bytes one engine transforms per cipher call (at least one data unit): bounds its scratch memory. */
    static final int CHUNK_BYTES = 64 * 1024;

    private static final int BLOCK = 16;
    private static final String AES_ECB = "AES/ECB/NoPadding";
    /** Tweak arithmetic is on the little-endian 128-bit integer, whatever the platform's order. */
    private static final ValueLayout.OfLong LE_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The low byte of x^128 + x^7 + x^2 + x + 1, folded back in when a doubling carries out of bit 127. */
    private static final long GF_FEEDBACK = 0x87;

    private final XtsKey key;
    private final int unitBytes;
    private final SlotPool<Engine> engines = new SlotPool<>(2 * Runtime.getRuntime().availableProcessors());

    /**
     * A cipher for {@code key} with data units of {@code unitBytes} (for a disk, its logical sector size).
     *
     * @throws IllegalArgumentException if {@code unitBytes} is not a positive multiple of 16
     * @throws IllegalStateException when the JDK offers no AES
     */
    public XtsAes256(XtsKey key, int unitBytes) {
        if (unitBytes < BLOCK || unitBytes % BLOCK != 0) {
            throw new IllegalArgumentException("data unit must be a positive multiple of " + BLOCK + " bytes, got "
                    + unitBytes);
        }
        this.key = key;
        this.unitBytes = unitBytes;
        engines.give(new Engine()); // fails now, not at the first I/O, if AES is unavailable
    }

    /** The data unit size in bytes. */
    public int unitBytes() {
        return unitBytes;
    }

    /**
     * Encrypts {@code length} bytes read from {@code from} into {@code to}; the first data unit has number
     * {@code firstUnit} and each following one the next number. {@code from} and {@code to} are each read or
     * written front to back as one stream, whatever their split into segments; they may be the same memory.
     *
     * @throws IllegalArgumentException if {@code length} is not a whole number of data units
     */
    public void encrypt(List<MemorySegment> from, List<MemorySegment> to, long length, long firstUnit) {
        transform(true, from, to, length, firstUnit);
    }

    /** Decrypts, the inverse of {@link #encrypt} with the same arguments. */
    public void decrypt(List<MemorySegment> from, List<MemorySegment> to, long length, long firstUnit) {
        transform(false, from, to, length, firstUnit);
    }

    private void transform(boolean encrypt, List<MemorySegment> from, List<MemorySegment> to, long length,
            long firstUnit) {
        if (length < 0 || length % unitBytes != 0) {
            throw new IllegalArgumentException(length + " bytes is not a whole number of " + unitBytes
                    + "-byte data units");
        }
        Engine engine = engines.take();
        if (engine == null) {
            engine = new Engine();
        }
        engine.run(encrypt, from, to, length, firstUnit);
        // Not returned when run threw: a cipher that failed midway may hold state.
        engines.give(engine);
    }

    /** Never the key. */
    @Override
    public String toString() {
        return "XTS-AES-256[" + unitBytes + "-byte data units]";
    }

    /** One caller's ciphers and scratch memory. */
    private final class Engine {
        private final Cipher dataEncrypt;
        private final Cipher dataDecrypt;
        private final Cipher tweakEncrypt;
        private final int chunkBytes = Math.max(unitBytes, CHUNK_BYTES - CHUNK_BYTES % unitBytes);
        /**
         * Heap arrays: the JDK's ciphers work on arrays directly but copy direct buffers through temporary ones, and
         * the JIT vectorizes the XOR of two arrays. The segment views serve copies and 64-bit tweak arithmetic.
         */
        private final byte[] tweaks = new byte[chunkBytes];
        private final byte[] whitened = new byte[chunkBytes];
        private final byte[] ciphered = new byte[chunkBytes];
        private final byte[] unitNumbersArray = new byte[chunkBytes / unitBytes * BLOCK];
        private final byte[] firstTweaksArray = new byte[unitNumbersArray.length];
        private final MemorySegment tweakWords = MemorySegment.ofArray(tweaks);
        private final MemorySegment whitenedView = MemorySegment.ofArray(whitened);
        private final MemorySegment cipheredView = MemorySegment.ofArray(ciphered);
        private final MemorySegment unitNumbers = MemorySegment.ofArray(unitNumbersArray);
        private final MemorySegment firstTweaks = MemorySegment.ofArray(firstTweaksArray);
        private final SegmentStream source = new SegmentStream();
        private final SegmentStream sink = new SegmentStream();

        Engine() {
            try {
                dataEncrypt = Cipher.getInstance(AES_ECB);
                dataEncrypt.init(Cipher.ENCRYPT_MODE, key.dataKey());
                dataDecrypt = Cipher.getInstance(AES_ECB);
                dataDecrypt.init(Cipher.DECRYPT_MODE, key.dataKey());
                tweakEncrypt = Cipher.getInstance(AES_ECB);
                tweakEncrypt.init(Cipher.ENCRYPT_MODE, key.tweakKey());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-256 is not available: " + e.getClass().getSimpleName(), e);
            }
        }

        void run(boolean encrypt, List<MemorySegment> from, List<MemorySegment> to, long length, long firstUnit) {
            source.reset(from);
            sink.reset(to);
            try {
                long unit = firstUnit;
                for (long done = 0; done < length; ) {
                    int bytes = (int) Math.min(chunkBytes, length - done);
                    int units = bytes / unitBytes;
                    computeTweaks(unit, units);
                    // C = E(P ^ T) ^ T and P = D(C ^ T) ^ T, one chunk at a time; the chunk is read entirely before
                    // it is written, so from and to may be the same memory.
                    source.copyTo(whitenedView, bytes);
                    xor(whitened, tweaks, bytes);
                    (encrypt ? dataEncrypt : dataDecrypt).update(whitened, 0, bytes, ciphered, 0);
                    xor(ciphered, tweaks, bytes);
                    sink.copyFrom(cipheredView, bytes);
                    done += bytes;
                    unit += units;
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES failed: " + e.getClass().getSimpleName(), e);
            } finally {
                source.reset(null);
                sink.reset(null);
            }
        }

        /**
         * Fills {@link #tweaks} for {@code units} data units from {@code firstUnit}: unit n's first block's tweak is
         * AES(tweak key, n), and each next block's tweak is the previous one times alpha in GF(2^128).
         */
        private void computeTweaks(long firstUnit, int units) throws GeneralSecurityException {
            for (int u = 0; u < units; u++) {
                unitNumbers.set(LE_LONG, (long) u * BLOCK, firstUnit + u); // the high 64 bits stay zero
            }
            tweakEncrypt.update(unitNumbersArray, 0, units * BLOCK, firstTweaksArray, 0);
            int blocksPerUnit = unitBytes / BLOCK;
            long at = 0;
            for (int u = 0; u < units; u++) {
                long lo = firstTweaks.get(LE_LONG, (long) u * BLOCK);
                long hi = firstTweaks.get(LE_LONG, (long) u * BLOCK + 8);
                for (int b = 0; b < blocksPerUnit; b++) {
                    tweakWords.set(LE_LONG, at, lo);
                    tweakWords.set(LE_LONG, at + 8, hi);
                    at += BLOCK;
                    // Multiply by alpha: shift the 128-bit little-endian integer left by one and reduce.
                    long carry = hi >> 63; // all ones when bit 127 is set
                    hi = (hi << 1) | (lo >>> 63);
                    lo = (lo << 1) ^ (carry & GF_FEEDBACK);
                }
            }
        }
    }

    /** {@code data ^= tweaks}, byte by byte: a loop over two arrays, which the JIT turns into vector instructions. */
    private static void xor(byte[] data, byte[] tweaks, int length) {
        for (int i = 0; i < length; i++) {
            data[i] ^= tweaks[i];
        }
    }

    /**
     * A list of segments read or written front to back as one stream of bytes. It only copies
     * ({@code MemorySegment.copy}, an intrinsic for heap and native memory alike), so no type-profiled loop ever runs
     * over guest memory, whichever kind it is.
     */
    private static final class SegmentStream {
        private List<MemorySegment> segments;
        private int index;
        private long offset;

        void reset(List<MemorySegment> segments) {
            this.segments = segments;
            this.index = 0;
            this.offset = 0;
        }

        /** Copies the next {@code length} bytes of the stream to the start of {@code target}. */
        void copyTo(MemorySegment target, int length) {
            for (int done = 0; done < length; ) {
                MemorySegment segment = current();
                int take = (int) Math.min(segment.byteSize() - offset, length - done);
                MemorySegment.copy(segment, offset, target, done, take);
                offset += take;
                done += take;
            }
        }

        /** Copies the first {@code length} bytes of {@code source} into the stream as its next bytes. */
        void copyFrom(MemorySegment source, int length) {
            for (int done = 0; done < length; ) {
                MemorySegment segment = current();
                int take = (int) Math.min(segment.byteSize() - offset, length - done);
                MemorySegment.copy(source, done, segment, offset, take);
                offset += take;
                done += take;
            }
        }

        private MemorySegment current() {
            MemorySegment segment = segments.get(index);
            while (offset == segment.byteSize()) { // the current segment is used up, or empty
                index++;
                offset = 0;
                segment = segments.get(index);
            }
            return segment;
        }
    }
}
