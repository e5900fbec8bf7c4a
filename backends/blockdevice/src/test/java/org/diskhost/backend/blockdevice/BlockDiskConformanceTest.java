package org.diskhost.backend.blockdevice;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.LoopDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared conformance suite over real loop devices (512- and 4096-byte sectors, read-only, both engines) and over
 * regular files. Each test gets a device of its own; detaching it while the disk is still open (this class's
 * {@code @AfterEach} runs before the suite's) lets the kernel free it when the disk closes.
 */
class BlockDiskConformanceTest {
    @TempDir
    Path dir;

    private LoopDevice loop;

    @AfterEach
    void detach() throws Exception {
        if (loop != null) {
            loop.close();
        }
    }

    private Disk onLoop(int sectorSize, boolean readOnlyDevice, Map<String, Object> settings) throws Exception {
        Path file = Files.createTempFile(dir, "loop", ".img");
        Files.write(file, new byte[1 << 20]);
        loop = LoopDevice.over(file).sectorSize(sectorSize).readOnly(readOnlyDevice).directIo(true).attach();
        Map<String, Object> all = new HashMap<>(settings);
        all.put("path", loop.path().toString());
        return BlockDisks.resolve(dir, all);
    }

    @Nested
    class Loop512 extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            BlockDisks.assumeUring();
            return onLoop(512, false, Map.of());
        }
    }

    @Nested
    class Loop4096 extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            BlockDisks.assumeUring();
            return onLoop(4096, false, Map.of());
        }
    }

    @Nested
    class Loop512Exclusive extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            BlockDisks.assumeUring();
            return onLoop(512, false, Map.of("exclusive", true));
        }
    }

    @Nested
    class ReadOnlyLoop extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            return onLoop(512, true, Map.of("readOnly", true));
        }
    }

    @Nested
    class LoopThreads extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            return onLoop(4096, false, Map.of("engine", "threads"));
        }
    }

    @Nested
    class RegularFile extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Path file = dir.resolve("file.img");
            Files.write(file, new byte[1 << 20]);
            return BlockDisks.resolve(dir, Map.of("path", file.toString()));
        }
    }

    @Nested
    class RegularFileBuffered extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Path file = dir.resolve("buffered.img");
            Files.write(file, new byte[1 << 20]);
            return BlockDisks.resolve(dir, Map.of("path", file.toString(), "direct", false));
        }
    }
}
