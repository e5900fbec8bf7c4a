package org.example.diskhost.faults;

import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDiskResolver;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/**
 * The testkit's conformance suite through faults disks whose faults never fire: rate 0, a trigger file that does not
 * exist,. Resolved from specs, as users get them.
 */
class FaultsConformanceTest {
    @TempDir
    Path dir;

    private ResolvedChain resolve(Map<String, Object> spec, boolean readOnly) {
        return StandaloneResolution.of(dir, new MemoryDiskResolver(), new FileDiskResolver(), new FaultsDiskResolver())
                .resolve("conformance", spec, readOnly).join();
    }

    @Nested
    class MemoryRateZero extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(resolve(Map.of("kind", "faults", "rate", 0, "disk", Map.of("kind", "memory")), false));
        }
    }

    @Nested
    class Memory4096Disarmed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(resolve(Map.of("kind", "faults", "file", "no-such-trigger", "error", "medium",
                    "disk", Map.of("kind", "memory", "sectorSize", 4096, "sectors", 64)), false));
        }
    }

    @Nested
    class MemoryReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(resolve(Map.of("kind", "faults", "rate", "0%", "disk", Map.of("kind", "memory")), true));
        }
    }

    @Nested
    class FileRateZero extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(resolve(Map.of("kind", "faults", "rate", 0.0, "ops", "read,write,flush,unmap",
                    "disk", Map.of("kind", "file", "path", "f.img", "create", "1 MiB")), false));
        }
    }
}
