package org.diskhost.backend.prwrap;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite through a prwrap disk, over in-memory disks and over file disks. */
class PrWrapConformanceTest {
    @TempDir
    Path dir;

    private Disk overMemory(MemoryDisk memory) {
        return Disk.of(new ReservationDisk(Disk.of(memory), new EmulatedReservations()));
    }

    private ResolvedChain overFile(Map<String, Object> file, boolean readOnly) {
        return StandaloneResolution.of(dir, new FileDiskResolver(), new PrWrapDiskResolver())
                .resolve("conformance", Map.of("kind", "prwrap", "disk", file), readOnly).join();
    }

    @Nested
    class Memory512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.of(512, 256));
        }
    }

    @Nested
    class Memory4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.of(4096, 64));
        }
    }

    @Nested
    class MemoryReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.builder(512, 128).readOnly(true).build());
        }
    }

    @Nested
    class File512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(overFile(Map.of("kind", "file", "path", "p512.img", "create", "1 MiB"), false));
        }
    }

    @Nested
    class File4096Direct extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(overFile(Map.of("kind", "file", "path", "p4k.img", "create", "1 MiB", "sectorSize", 4096,
                    "direct", true), false));
        }
    }

    @Nested
    class FileReadOnlyChain extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("ro.img"), new byte[128 * 512]);
            return chainDisk(overFile(Map.of("kind", "file", "path", "ro.img"), true));
        }
    }
}
