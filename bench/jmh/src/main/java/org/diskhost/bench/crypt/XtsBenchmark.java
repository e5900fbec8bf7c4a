package org.diskhost.bench.crypt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.diskhost.backend.crypt.XtsAes256;
import org.diskhost.backend.crypt.XtsKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The crypt backend's XTS-AES-256 on one thread, the way the disk uses it: encryption from one native buffer into
 * another (a write into its staging buffer), decryption in place (a read in the caller's buffer). One data unit per
 * {@code sectorSize}; a request of {@code requestBytes} is {@code requestBytes / sectorSize} units. Throughput is in
 * requests per second; bench/crypt.sh turns it into bytes per second beside {@code openssl speed}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class XtsBenchmark {
    @Param({"4096", "65536"})
    int requestBytes;

    /** 4096 compares with {@code openssl speed}, which enciphers each block of its -bytes as one data unit. */
    @Param({"512", "4096"})
    int sectorSize;

    private XtsAes256 xts;
    private List<MemorySegment> plaintext;
    private List<MemorySegment> ciphertext;
    /** A sector number above 2^32, as on a large disk. */
    private final long sector = 0x1_2345_6780L;

    @Setup
    public void setUp() {
        byte[] key = new byte[XtsKey.BYTES];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        xts = new XtsAes256(XtsKey.of(key), sectorSize);
        Arena arena = Arena.ofAuto();
        MemorySegment from = arena.allocate(requestBytes, 4096);
        for (int i = 0; i < requestBytes; i++) {
            from.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31));
        }
        plaintext = List.of(from);
        ciphertext = List.of(arena.allocate(requestBytes, 4096));
        xts.encrypt(plaintext, ciphertext, requestBytes, sector);
    }

    @Benchmark
    public void encrypt() {
        xts.encrypt(plaintext, ciphertext, requestBytes, sector);
    }

    /** In place; decrypting the same bytes again each time costs the same as decrypting ciphertext. */
    @Benchmark
    public void decrypt() {
        xts.decrypt(ciphertext, ciphertext, requestBytes, sector);
    }
}
