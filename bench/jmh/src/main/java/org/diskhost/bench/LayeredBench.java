package org.diskhost.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.backend.layered.DiskLayerResolver;
import org.diskhost.backend.layered.RamDiffResolver;
import org.diskhost.backend.layered.RamLayerResolver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * 4 KiB random reads and writes, one at a time, on a file disk alone and on a two-layer RAM-over-file stack (kind
 * {@code ramdiff}) in the same run: {@code ramdiff-hit} has every sector in the RAM layer (reads never reach the
 * file), {@code ramdiff-miss} has none (reads fall through to the file; writes fill the RAM layer). The file is
 * 64 MiB, read from the page cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LayeredBench {
    private static final int BLOCK = 4096;
    private static final long FILE_BYTES = 64L << 20;

    @Param({"file", "ramdiff-hit", "ramdiff-miss"})
    public String stack;

    private Path directory;
    private ResolvedChain chain;
    Disk disk;
    long blocks;

    @Setup(Level.Trial)
    public void open() throws IOException {
        directory = Files.createTempDirectory("diskhost-bench");
        Path image = directory.resolve("base.img");
        byte[] chunk = new byte[1 << 20];
        ThreadLocalRandom.current().nextBytes(chunk);
        try (var out = Files.newOutputStream(image)) {
            for (long done = 0; done < FILE_BYTES; done += chunk.length) {
                out.write(chunk);
            }
        }
        List<DiskResolver> disks = List.of(new FileDiskResolver(), new RamDiffResolver());
        List<LayerResolver> layers = List.of(new RamLayerResolver(), new DiskLayerResolver());
        Map<String, Object> file = Map.of("kind", "file", "path", image.toString());
        Map<String, Object> spec = stack.equals("file") ? file : Map.of("kind", "ramdiff", "disk", file);
        chain = StandaloneResolution.of(directory, disks, layers).resolve("bench", spec, false).join();
        disk = chain.disk();
        blocks = disk.sectorCount() * disk.sectorSize() / BLOCK;
        if (stack.equals("ramdiff-hit")) {
            MemorySegment data = Arena.ofAuto().allocate(1 << 20, BLOCK);
            long perChunk = (1 << 20) / disk.sectorSize();
            for (long s = 0; s < disk.sectorCount(); s += perChunk) {
                disk.writeVectored(RequestBuffers.of(data, false), s, false).join();
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        chain.close();
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A thread's own 4 KiB of page-aligned memory. */
    @State(Scope.Thread)
    public static class Buffer {
        final MemorySegment memory = Arena.ofAuto().allocate(BLOCK, BLOCK);
        final RequestBuffers forRead = RequestBuffers.of(memory, true);
        final RequestBuffers forWrite = RequestBuffers.of(memory, false);
    }

    private long randomSector() {
        return ThreadLocalRandom.current().nextLong(blocks) * (BLOCK / disk.sectorSize());
    }

    @Benchmark
    public void read4k(Buffer buffer) {
        disk.readVectored(buffer.forRead, randomSector()).join();
    }

    @Benchmark
    public void write4k(Buffer buffer) {
        disk.writeVectored(buffer.forWrite, randomSector(), false).join();
    }
}
