package org.diskhost.backend.striped;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over striped disks of several shapes, of in-memory disks and of file disks. */
class StripedConformanceTest {
    private static final ExecutorService ASYNC = Executors.newFixedThreadPool(4);

    @TempDir
    Path dir;

    private ResolvedChain chain;

    @AfterAll
    static void shutdown() {
        ASYNC.shutdownNow();
    }

    @AfterEach
    void closeChain() {
        if (chain != null) {
            chain.close();
        }
    }

    private static Disk overMemory(int members, long chunkBytes, MemoryDisk.Builder... builders) {
        List<Disk> disks = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            disks.add(Disk.of(builders[m % builders.length].build()));
        }
        return Disk.of(new StripedDisk(disks, StripeLayout.of(disks, chunkBytes, OptionalLong.empty())));
    }

    private Disk overFiles(Map<String, Object> striped, boolean readOnly) {
        StandaloneResolution resolution = StandaloneResolution.of(dir, new FileDiskResolver(),
                new StripedDiskResolver());
        chain = resolution.resolve("conformance", striped, readOnly).join();
        return chain.disk();
    }

    private static Map<String, Object> file(String path, Object... more) {
        Map<String, Object> spec = new java.util.LinkedHashMap<>(Map.of("kind", "file", "path", path,
                "create", "1 MiB"));
        for (int i = 0; i < more.length; i += 2) {
            spec.put((String) more[i], more[i + 1]);
        }
        return spec;
    }

    /** The reference's shape: two 1 MiB memory disks, default chunk. */
    @Nested
    class TwoMemory1MiB extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(2, 128 * 1024, MemoryDisk.builder(512, 2048));
        }
    }

    @Nested
    class FourMemorySmallChunks extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(4, 4096, MemoryDisk.builder(512, 64));
        }
    }

    @Nested
    class ThreeMemoryOddChunksAsync extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(3, 1536, MemoryDisk.builder(512, 90).completeOn(ASYNC));
        }
    }

    @Nested
    class TwoMemory4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(2, 16384, MemoryDisk.builder(4096, 64));
        }
    }

    @Nested
    class OneMemberSectorChunks extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(1, 512, MemoryDisk.builder(512, 128));
        }
    }

    @Nested
    class MemoryReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(2, 4096, MemoryDisk.builder(512, 128).readOnly(true));
        }
    }

    @Nested
    class TwoFiles extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overFiles(Map.of("kind", "striped", "chunkSize", "64 KiB",
                    "members", List.of(file("a.img"), file("b.img"))), false);
        }
    }

    @Nested
    class FourFilesDirect4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            List<Map<String, Object>> members = new ArrayList<>();
            for (int m = 0; m < 4; m++) {
                members.add(file("d" + m + ".img", "sectorSize", 4096, "direct", true));
            }
            return overFiles(Map.of("kind", "striped", "chunkSize", "8K", "members", members), false);
        }
    }

    @Nested
    class FilesReadOnlyChain extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("r0.img"), new byte[64 * 1024]);
            Files.write(dir.resolve("r1.img"), new byte[64 * 1024]);
            return overFiles(Map.of("kind", "striped", "chunkSize", 4096, "members",
                    List.of(Map.of("kind", "file", "path", "r0.img"), Map.of("kind", "file", "path", "r1.img"))),
                    true);
        }
    }
}
