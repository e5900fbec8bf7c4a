package org.diskhost.bench.crypt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.backend.crypt.CryptDiskResolver;
import org.diskhost.testkit.MemoryDisk;
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
 * A whole crypt disk through the {@code DiskIo} API, resolved by its resolver over an in-memory disk that completes
 * on the caller's thread: the cipher plus everything around it (the staging buffer, the futures, the memory disk's
 * copy). {@code plainWrite} and {@code plainRead} are the memory disk alone, to subtract.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CryptDiskBenchmark {
    @Param({"4096", "65536"})
    int requestBytes;

    @Param({"512", "4096"})
    int sectorSize;

    private Disk plain;
    private Disk crypt;
    private RequestBuffers toWrite;
    private RequestBuffers toRead;

    @Setup
    public void setUp() {
        plain = Disk.of(MemoryDisk.of(sectorSize, 64L * 1024 * 1024 / sectorSize));
        byte[] key = new byte[64];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        DiskSpec spec = DiskSpec.parse("bench", Map.of("kind", "crypt", "key", HexFormat.of().formatHex(key),
                "disk", Map.of("kind", "memory")), null);
        crypt = new CryptDiskResolver().resolve(spec, new ResolveContext() {
            public String diskName() {
                return "bench";
            }

            public boolean readOnly() {
                return false;
            }

            public CompletableFuture<Disk> resolve(DiskSpec nested, boolean readOnly) {
                return CompletableFuture.completedFuture(plain);
            }
        }).join();
        Arena arena = Arena.ofAuto();
        MemorySegment data = arena.allocate(requestBytes, 4096);
        for (int i = 0; i < requestBytes; i++) {
            data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31));
        }
        toWrite = RequestBuffers.of(data, false);
        toRead = RequestBuffers.of(arena.allocate(requestBytes, 4096), true);
        crypt.writeVectored(toWrite, 8, false).join();
    }

    @Benchmark
    public void write() {
        crypt.writeVectored(toWrite, 8, false).join();
    }

    @Benchmark
    public void read() {
        crypt.readVectored(toRead, 8).join();
    }

    @Benchmark
    public void plainWrite() {
        plain.writeVectored(toWrite, 8, false).join();
    }

    @Benchmark
    public void plainRead() {
        plain.readVectored(toRead, 8).join();
    }
}
