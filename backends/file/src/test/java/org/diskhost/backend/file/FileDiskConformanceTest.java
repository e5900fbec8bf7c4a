package org.diskhost.backend.file;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over file disks of every shape. */
class FileDiskConformanceTest {
    @TempDir
    Path dir;

    Disk open(Map<String, Object> settings) {
        return FileDisks.resolve(dir, settings, false);
    }

    @Nested
    class Sectors512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("path", "d512.img", "create", "1 MiB"));
        }
    }

    @Nested
    class Sectors4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("path", "d4k.img", "create", "1 MiB", "sectorSize", 4096));
        }
    }

    @Nested
    class Direct512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("path", "direct512.img", "create", "1 MiB", "direct", true));
        }
    }

    @Nested
    class Direct4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("path", "direct4k.img", "create", "1 MiB", "direct", true, "sectorSize", 4096));
        }
    }

    @Nested
    class ChannelEngine extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("path", "channel.img", "create", "1 MiB", "engine", "channel"));
        }
    }

    @Nested
    class ReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Path file = dir.resolve("ro.img");
            Files.write(file, new byte[256 * 512]);
            return open(Map.of("path", "ro.img", "readOnly", true));
        }
    }
}
