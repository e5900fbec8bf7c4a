package org.diskhost.backend.delay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

/** The shared conformance suite through delay disks (no delay, and short real delays), over memory and file disks. */
class DelayConformanceTest {
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

    private static Disk overMemory(MemoryDisk memory, Delays delays) {
        return Disk.of(new DelayDisk(Disk.of(memory), "conformance", delays, DelayTimer.SYSTEM, new LiveDelays()));
    }

    private Disk overFile(Map<String, Object> delay, boolean readOnly) {
        StandaloneResolution resolution = StandaloneResolution.of(dir, new FileDiskResolver(), new DelayDiskResolver());
        chain = resolution.resolve("conformance", delay, readOnly).join();
        return chain.disk();
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
            return overMemory(MemoryDisk.builder(4096, 64).completeOn(ASYNC).build(),
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
            return overFile(Map.of("kind", "delay", "readDelay", "1ms", "writeDelay", "500us",
                    "disk", Map.of("kind", "file", "path", "d.img", "create", "1 MiB")), false);
        }
    }

    @Nested
    class FileDirect4096NoDelay extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return overFile(Map.of("kind", "delay", "disk", Map.of("kind", "file", "path", "d4k.img",
                    "create", "1 MiB", "sectorSize", 4096, "direct", true)), false);
        }
    }

    @Nested
    class FileReadOnlyChain extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("ro.img"), new byte[128 * 512]);
            return overFile(Map.of("kind", "delay", "readDelay", 1,
                    "disk", Map.of("kind", "file", "path", "ro.img")), true);
        }
    }
}
