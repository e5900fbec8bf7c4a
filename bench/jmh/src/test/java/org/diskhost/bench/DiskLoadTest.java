package org.diskhost.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.bench.DiskLoad.Latencies;
import org.diskhost.bench.DiskLoad.Options;
import org.diskhost.bench.DiskLoad.Pattern;
import org.diskhost.bench.DiskLoad.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskLoadTest {
    private static final String DISK = "{\"kind\":\"file\",\"path\":\"/x/bench.img\",\"engine\":\"uring\",\"direct\":true}";

    @Test
    void parsesEveryArgument() {
        Options o = Options.parse("--disk", DISK, "--rw", "write", "--bs", "1M", "--qd", "8", "--runtime", "2.5",
                "--ramp", "0");
        assertEquals(Map.of("kind", "file", "path", "/x/bench.img", "engine", "uring", "direct", true), o.disk());
        assertEquals(Pattern.WRITE, o.pattern());
        assertEquals(1 << 20, o.blockSize());
        assertEquals(8, o.queueDepth());
        assertEquals(2_500_000_000L, o.runtimeNanos());
        assertEquals(0, o.rampNanos());
    }

    @Test
    void defaultsAreFourKibRandomReadsAtQueueDepthOne() {
        Options o = Options.parse("--disk", DISK);
        assertEquals(Pattern.RANDREAD, o.pattern());
        assertEquals(4096, o.blockSize());
        assertEquals(1, o.queueDepth());
        assertEquals(15_000_000_000L, o.runtimeNanos());
        assertEquals(2_000_000_000L, o.rampNanos());
    }

    @Test
    void sizesUseBinaryUnitsAsFioDoes() {
        assertEquals(4096, Options.size("4096"));
        assertEquals(4096, Options.size("4k"));
        assertEquals(4096, Options.size("4K"));
        assertEquals(4096, Options.size("4KiB"));
        assertEquals(1 << 20, Options.size("1M"));
        assertEquals(1 << 20, Options.size("1mb"));
        assertEquals(2L << 30, Options.size("2g"));
    }

    @Test
    void badArgumentsNameTheArgument() {
        assertMessage("--disk is required", "--qd", "4");
        assertMessage("unknown argument \"--iodepth\"", "--disk", DISK, "--iodepth", "4");
        assertMessage("--qd needs a value", "--disk", DISK, "--qd");
        assertMessage("--qd is given twice", "--disk", DISK, "--qd", "1", "--qd", "2");
        assertMessage("--rw must be randread, read, randwrite or write, got \"randrw\"", "--disk", DISK, "--rw",
                "randrw");
        assertMessage("--bs must be a positive size such as 4096, 4k or 1M, got \"4x\"", "--disk", DISK, "--bs", "4x");
        assertMessage("--bs must be a multiple of 512 bytes up to 1 GiB, got 1000", "--disk", DISK, "--bs", "1000");
        assertMessage("--qd must be between 1 and 4096, got 0", "--disk", DISK, "--qd", "0");
        assertMessage("--qd must be a whole number, got \"many\"", "--disk", DISK, "--qd", "many");
        assertMessage("--runtime must be positive", "--disk", DISK, "--runtime", "0");
        assertMessage("--ramp must be between 0 and 86400 seconds, got -1", "--disk", DISK, "--ramp", "-1");
        UsageException json = assertThrows(UsageException.class, () -> Options.parse("--disk", "{\"kind\":"));
        assertTrue(json.getMessage().startsWith("--disk is not a JSON object: line 1, column "), json.getMessage());
    }

    private static void assertMessage(String message, String... args) {
        assertEquals(message, assertThrows(UsageException.class, () -> Options.parse(args)).getMessage());
    }

    @Test
    void percentilesTakeTheNearestRank() {
        long[] hundred = new long[100];
        for (int i = 0; i < 100; i++) {
            hundred[i] = i + 1; // 1..100
        }
        assertEquals(50, DiskLoad.percentile(hundred, 50));
        assertEquals(99, DiskLoad.percentile(hundred, 99));
        assertEquals(100, DiskLoad.percentile(hundred, 99.9));
        assertEquals(100, DiskLoad.percentile(hundred, 100));
        assertEquals(1, DiskLoad.percentile(hundred, 0));
        long[] thousand = new long[1000];
        for (int i = 0; i < 1000; i++) {
            thousand[i] = i + 1;
        }
        assertEquals(999, DiskLoad.percentile(thousand, 99.9));
        assertEquals(990, DiskLoad.percentile(thousand, 99));
        assertEquals(7, DiskLoad.percentile(new long[] {7}, 99.9));
        assertEquals(-1, DiskLoad.percentile(new long[0], 50));
    }

    @Test
    void latenciesOfAllSlotsAreMergedAndSorted() {
        Latencies a = new Latencies();
        Latencies b = new Latencies();
        for (int i = 3000; i > 0; i--) {
            (i % 2 == 0 ? a : b).add(i);
        }
        long[] all = Latencies.sorted(List.of(a, b));
        assertEquals(3000, all.length);
        for (int i = 0; i < all.length; i++) {
            assertEquals(i + 1, all[i]);
        }
    }

    @Test
    void summaryReportsRatesAndMicroseconds() {
        Options o = Options.parse("--disk", DISK, "--bs", "1M", "--qd", "2", "--runtime", "2");
        long[] sorted = new long[1000];
        for (int i = 0; i < sorted.length; i++) {
            sorted[i] = (i + 1) * 1000L; // 1..1000 µs
        }
        Map<String, Object> s = DiskLoad.summary(o, sorted, 2.0, 3);
        assertEquals(500.0, s.get("iops"));
        assertEquals(500.0, s.get("mib_s"));
        assertEquals(500.5, s.get("mean_us"));
        assertEquals(500.0, s.get("p50_us"));
        assertEquals(990.0, s.get("p99_us"));
        assertEquals(999.0, s.get("p99.9_us"));
        assertEquals(3L, s.get("errors"));
        assertEquals("file", s.get("kind"));
    }

    /** A sequential write at queue depth 4 on a small file wraps around and reaches every block. */
    @Test
    void sequentialWritesCoverTheWholeDiskOnARealFile(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[64 * 4096]);
        Map<String, Object> result = run(dir, image, "write", "4k", "4");
        assertEquals(0L, result.get("errors"));
        assertTrue((Integer) result.get("ios") > 64, result.toString());
        byte[] data = Files.readAllBytes(image);
        for (int block = 0; block < 64; block++) {
            boolean written = false;
            for (int i = block * 4096; i < (block + 1) * 4096 && !written; i++) {
                written = data[i] != 0;
            }
            assertTrue(written, "block " + block + " was never written");
        }
    }

    @Test
    void randomReadsOnARealFileReportOrderedPercentiles(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        Map<String, Object> result = run(dir, image, "randread", "4k", "8");
        assertEquals(0L, result.get("errors"));
        assertTrue((Integer) result.get("ios") > 0, result.toString());
        double p50 = (Double) result.get("p50_us");
        double p99 = (Double) result.get("p99_us");
        double p999 = (Double) result.get("p99.9_us");
        assertTrue(0 < p50 && p50 <= p99 && p99 <= p999, result.toString());
        assertFalse(result.containsValue(Double.NaN));
    }

    @Test
    void aBlockSizeThatIsNotWholeSectorsIsRefused(@TempDir Path dir) throws IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        String spec = "{\"kind\":\"file\",\"path\":\"" + image + "\",\"sectorSize\":4096}";
        Options o = Options.parse("--disk", spec, "--bs", "512", "--runtime", "0.1", "--ramp", "0");
        try (ResolvedChain chain = StandaloneResolution.of(dir, new FileDiskResolver())
                .resolve("load", o.disk(), true).join()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DiskLoad.Run(chain.disk(), o));
            assertEquals("--bs 512 is not a multiple of the disk's 4096-byte sectors", e.getMessage());
        }
    }

    private static Map<String, Object> run(Path dir, Path image, String rw, String bs, String qd) {
        Options o = Options.parse("--disk", "{\"kind\":\"file\",\"path\":\"" + image + "\"}", "--rw", rw, "--bs", bs,
                "--qd", qd, "--runtime", "0.3", "--ramp", "0.1");
        try (ResolvedChain chain = StandaloneResolution.of(dir, new FileDiskResolver())
                .resolve("load", o.disk(), !o.pattern().write).join()) {
            return new DiskLoad.Run(chain.disk(), o).run();
        }
    }
}
