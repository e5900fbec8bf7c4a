package org.diskhost.backend.striped;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over striped disks of several shapes, of in-memory disks and of file disks. */
class StripedConformanceTest {
    @TempDir
    Path dir;

    private static Disk overMemory(int members, long chunkBytes, MemoryDisk.Builder... builders) {
        List<Disk> disks = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            disks.add(Disk.of(builders[m % builders.length].build()));
        }
        return Disk.of(new StripedDisk(disks, StripeLayout.of(disks, chunkBytes, OptionalLong.empty())));
    }

    private ResolvedChain overFiles(Map<String, Object> striped, boolean readOnly) {
        return StandaloneResolution.of(dir, new FileDiskResolver(), new StripedDiskResolver())
                .resolve("conformance", striped, readOnly).join();
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
            return overMemory(3, 1536, MemoryDisk.builder(512, 90).completeAsync());
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
            return chainDisk(overFiles(Map.of("kind", "striped", "chunkSize", "64 KiB",
                    "members", List.of(file("a.img"), file("b.img"))), false));
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
            return chainDisk(overFiles(Map.of("kind", "striped", "chunkSize", "8K", "members", members), false));
        }
    }

    @Nested
    class FilesReadOnlyChain extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("r0.img"), new byte[64 * 1024]);
            Files.write(dir.resolve("r1.img"), new byte[64 * 1024]);
            return chainDisk(overFiles(Map.of("kind", "striped", "chunkSize", 4096, "members",
                    List.of(Map.of("kind", "file", "path", "r0.img"), Map.of("kind", "file", "path", "r1.img"))),
                    true));
        }
    }
}
