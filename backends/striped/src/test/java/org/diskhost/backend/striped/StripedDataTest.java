package org.diskhost.backend.striped;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Data round trips through striped disks of several shapes, with guest buffers starting 0, 512, 513 and 1028 bytes
 * into a page, for requests at the start, middle and end that span many chunks. Afterwards every member must hold
 * exactly what dealing the written image out chunk by chunk gives ({@link Stripes#deal}).
 */
class StripedDataTest {
    private static final int[] BUFFER_OFFSETS = {0, 512, 513, 1028};

    @TempDir
    Path dir;

    /** members, sector size, chunk size (null: the default), sectors per member. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(2, 512, 4096, 256),
                Arguments.of(4, 512, null, 2048), // the default 128 KiB chunk
                Arguments.of(4, 512, 131072, 2048),
                Arguments.of(2, 512, 65536, 2048),
                Arguments.of(3, 512, 1536, 300), // 3-sector chunks: not a power of two
                Arguments.of(4, 4096, 65536, 256),
                Arguments.of(1, 512, 4096, 256));
    }

    private static Map<String, Object> striped(List<Map<String, Object>> members, Integer chunk) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("kind", "striped");
        config.put("members", members);
        if (chunk != null) {
            config.put("chunkSize", chunk);
        }
        return config;
    }

    @ParameterizedTest(name = "{0} memory members, {1}-byte sectors, chunk {2}")
    @MethodSource("shapes")
    void overMemoryDisks(int members, int sectorSize, Integer chunk, int memberSectors) {
        MemoryDiskResolver memory = new MemoryDiskResolver();
        List<Map<String, Object>> specs = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            specs.add(Map.of("kind", "memory", "id", "m" + m, "sectors", memberSectors, "sectorSize", sectorSize));
        }
        StandaloneResolution resolution = StandaloneResolution.of(dir, memory, new StripedDiskResolver());
        try (ResolvedChain chain = resolution.resolve("data", striped(specs, chunk), false).join()) {
            int chunkBytes = chunk == null ? 131072 : chunk;
            byte[] image = exercise(chain.disk(), chunkBytes);
            byte[][] expected = Stripes.deal(image, members, chunkBytes);
            for (int m = 0; m < members; m++) {
                byte[] actual = memory.disk("m" + m).content().asSlice(0, expected[m].length)
                        .toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertArrayEquals(expected[m], actual, "member " + m + " holds its chunks in order");
            }
        }
    }

    @ParameterizedTest(name = "{0} file members, {1}-byte sectors, chunk {2}")
    @MethodSource("shapes")
    void overFileDisks(int members, int sectorSize, Integer chunk, int memberSectors) throws Exception {
        List<Map<String, Object>> specs = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            specs.add(Map.of("kind", "file", "path", "m" + m + ".img", "create", (long) memberSectors * sectorSize,
                    "sectorSize", sectorSize));
        }
        StandaloneResolution resolution = StandaloneResolution.of(dir, new FileDiskResolver(),
                new StripedDiskResolver());
        int chunkBytes = chunk == null ? 131072 : chunk;
        byte[] image;
        try (ResolvedChain chain = resolution.resolve("data", striped(specs, chunk), false).join()) {
            image = exercise(chain.disk(), chunkBytes);
        }
        byte[][] expected = Stripes.deal(image, members, chunkBytes);
        for (int m = 0; m < members; m++) {
            byte[] file = Files.readAllBytes(dir.resolve("m" + m + ".img"));
            assertArrayEquals(expected[m], java.util.Arrays.copyOf(file, expected[m].length),
                    "file of member " + m + " holds its chunks in order");
        }
    }

    /**
     * Writes requests of many shapes (checking each reads back through buffers of the same shape) and returns the
     * image of the whole disk that the writes should have produced.
     */
    private static byte[] exercise(Disk disk, int chunkBytes) {
        int ss = disk.sectorSize();
        long n = disk.sectorCount();
        long chunkSectors = chunkBytes / ss;
        byte[] image = new byte[Math.toIntExact(n * ss)];
        long seed = 1;

        // The whole disk in one request: every chunk of every member.
        byte[] all = Stripes.pattern(image.length, seed++);
        succeeds(disk.writeVectored(RequestBuffers.of(java.lang.foreign.MemorySegment.ofArray(all), false), 0, false));
        System.arraycopy(all, 0, image, 0, all.length);

        long span = Math.min(n, 5 * chunkSectors + 3); // partial chunks at both ends, full ones between
        long[] starts = {0, 1, chunkSectors - 1, n / 2 - span / 2, n / 2 + 1, n - span, n - span + 0};
        for (long start : starts) {
            for (int offset : BUFFER_OFFSETS) {
                long length = Math.min(span - (offset % 3), n - start); // vary the length a little too
                byte[] data = Stripes.pattern(Math.toIntExact(length * ss), seed++);
                succeeds(disk.writeVectored(Stripes.scattered(offset, data, false), start, false));
                System.arraycopy(data, 0, image, Math.toIntExact(start * ss), data.length);

                RequestBuffers into = Stripes.scattered(offset, new byte[data.length], true);
                succeeds(disk.readVectored(into, start));
                assertArrayEquals(data, Stripes.bytes(into),
                        length + " sectors at " + start + " through buffers at offset " + offset);
            }
        }
        byte[] back = new byte[image.length];
        succeeds(disk.readVectored(RequestBuffers.of(java.lang.foreign.MemorySegment.ofArray(back), true), 0));
        assertArrayEquals(image, back, "the whole disk reads back as written");
        assertEquals(n * ss, back.length);
        return image;
    }
}
