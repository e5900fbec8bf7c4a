package org.diskhost.backend.file;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over file disks of every shape, on every engine. */
class FileDiskConformanceTest {
    @TempDir
    Path dir;

    /** The shapes every engine has; a subclass names the engine. */
    abstract class Engine {
        abstract String engine();

        Disk open(Map<String, Object> settings) {
            if (engine().equals("uring")) {
                FileDisks.assumeUring();
            }
            Map<String, Object> withEngine = new HashMap<>(settings);
            withEngine.put("engine", engine());
            withEngine.computeIfPresent("path", (key, path) -> engine() + "-" + path);
            return FileDisks.resolve(dir, withEngine, false);
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
        class ReadOnly extends DiskConformance {
            @Override
            protected Disk openDisk() throws Exception {
                Files.write(dir.resolve(engine() + "-ro.img"), new byte[256 * 512]);
                return open(Map.of("path", "ro.img", "readOnly", true));
            }
        }
    }

    /** The engines that can bypass the page cache add the O_DIRECT shapes. */
    abstract class NativeEngine extends Engine {
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
    }

    @Nested
    class Uring extends NativeEngine {
        @Override
        String engine() {
            return "uring";
        }
    }

    @Nested
    class Threads extends NativeEngine {
        @Override
        String engine() {
            return "threads";
        }
    }

    @Nested
    class Channel extends Engine {
        @Override
        String engine() {
            return "channel";
        }
    }
}
