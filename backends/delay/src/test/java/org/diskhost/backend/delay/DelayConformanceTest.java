package org.diskhost.backend.delay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite through delay disks (no delay, and short real delays), over memory and file disks. */
class DelayConformanceTest {
    @TempDir
    Path dir;

    private static Disk overMemory(MemoryDisk memory, Delays delays) {
        return Disk.of(new DelayDisk(Disk.of(memory), "conformance", delays, DelayTimer.SYSTEM, new LiveDelays()));
    }

    private ResolvedChain overFile(Map<String, Object> delay, boolean readOnly) {
        return StandaloneResolution.of(dir, new FileDiskResolver(), new DelayDiskResolver())
                .resolve("conformance", delay, readOnly).join();
    }

    /** The reference's test: conformance with zero delay. */
    @Nested
    class MemoryNoDelay extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.of(512, 256), Delays.NONE);
        }
    }

    @Nested
    class MemoryDelayed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.of(512, 256), new Delays(Duration.ofMillis(1), Duration.ofNanos(300_000)));
        }
    }

    @Nested
    class Memory4096AsyncDelayed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.builder(4096, 64).completeAsync().build(),
                    new Delays(Duration.ofMillis(2), Duration.ofMillis(1)));
        }
    }

    @Nested
    class MemoryReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overMemory(MemoryDisk.builder(512, 128).readOnly(true).build(), new Delays(Duration.ofMillis(1),
                    Duration.ofMillis(1)));
        }
    }

    @Nested
    class FileDelayed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(overFile(Map.of("kind", "delay", "readDelay", "1ms", "writeDelay", "500us",
                    "disk", Map.of("kind", "file", "path", "d.img", "create", "1 MiB")), false));
        }
    }

    @Nested
    class FileDirect4096NoDelay extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return chainDisk(overFile(Map.of("kind", "delay", "disk", Map.of("kind", "file", "path", "d4k.img",
                    "create", "1 MiB", "sectorSize", 4096, "direct", true)), false));
        }
    }

    @Nested
    class FileReadOnlyChain extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("ro.img"), new byte[128 * 512]);
            return chainDisk(overFile(Map.of("kind", "delay", "readDelay", 1,
                    "disk", Map.of("kind", "file", "path", "ro.img")), true));
        }
    }
}
