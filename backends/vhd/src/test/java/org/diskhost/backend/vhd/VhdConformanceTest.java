package org.diskhost.backend.vhd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over every image shape both kinds serve. */
class VhdConformanceTest {
    @TempDir
    Path dir;

    Disk open(String kind, Map<String, Object> settings) {
        return VhdDisks.resolve(kind, dir, settings);
    }

    /** A dynamic VHD with data in some blocks, then closed: a parent. */
    Path parentWithData(String name) {
        Disk parent = open("vhd", Map.of("path", name, "create", "1 MiB", "blockSize", "64 KiB"));
        try {
            VhdDisks.write(parent, 0, VhdDisks.pattern(256 * 1024, 5));
            VhdDisks.write(parent, 1000, VhdDisks.pattern(8 * 512, 6));
        } finally {
            parent.close();
        }
        return dir.resolve(name);
    }

    @Nested
    class Fixed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open("vhd1", Map.of("path", "fixed.vhd", "create", "1 MiB"));
        }
    }

    @Nested
    class FixedReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("ro.raw"), VhdDisks.pattern(256 * 512, 1));
            open("vhd1", Map.of("path", "ro.raw", "fromRaw", true)).close();
            return open("vhd1", Map.of("path", "ro.raw", "readOnly", true));
        }
    }

    @Nested
    class FixedThroughKindVhd extends DiskConformance {
        @Override
        protected Disk openDisk() {
            open("vhd1", Map.of("path", "fixed2.vhd", "create", "1 MiB")).close();
            return open("vhd", Map.of("path", "fixed2.vhd"));
        }
    }

    @Nested
    class Dynamic extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open("vhd", Map.of("path", "dynamic.vhd", "create", "1 MiB"));
        }
    }

    @Nested
    class DynamicSmallBlocks extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open("vhd", Map.of("path", "small.vhd", "create", "1 MiB", "blockSize", "4 KiB"));
        }
    }

    /** A size that is not a whole number of blocks: the last block is partly outside the disk. */
    @Nested
    class DynamicPartialLastBlock extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open("vhd", Map.of("path", "partial.vhd", "create", 100 * 512, "blockSize", "16 KiB"));
        }
    }

    @Nested
    class Differencing extends DiskConformance {
        @Override
        protected Disk openDisk() {
            parentWithData("parent.vhd");
            return open("vhd", Map.of("path", "child.vhd", "parent", "parent.vhd"));
        }
    }

    @Nested
    class DifferencingOverFixed extends DiskConformance {
        @Override
        protected Disk openDisk() {
            open("vhd1", Map.of("path", "fixedparent.vhd", "create", "1 MiB")).close();
            return open("vhd", Map.of("path", "overfixed.vhd", "parent", "fixedparent.vhd"));
        }
    }

    @Nested
    class DifferencingReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            parentWithData("roparent.vhd");
            open("vhd", Map.of("path", "rochild.vhd", "parent", "roparent.vhd")).close();
            return open("vhd", Map.of("path", "rochild.vhd", "readOnly", true));
        }
    }

    /** A dynamic VHDX (1 MiB blocks), created and served through kind {@code vhd}. */
    @Nested
    class DynamicVhdx extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open("vhd", Map.of("path", "dynamic.vhdx", "format", "vhdx", "create", "4 MiB",
                    "blockSize", "1 MiB"));
        }
    }

    /** A differencing VHDX over a VHDX with data, found through its parent locator. */
    @Nested
    class DifferencingVhdx extends DiskConformance {
        @Override
        protected Disk openDisk() {
            Disk parent = open("vhd", Map.of("path", "parent.vhdx", "format", "vhdx", "create", "4 MiB",
                    "blockSize", "1 MiB"));
            try {
                VhdDisks.write(parent, 0, VhdDisks.pattern(256 * 1024, 7));
            } finally {
                parent.close();
            }
            return open("vhd", Map.of("path", "child.vhdx", "parent", "parent.vhdx"));
        }
    }

    @Nested
    class RawByDetection extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            Files.write(dir.resolve("plain.img"), new byte[256 * 512]);
            return open("vhd", Map.of("path", "plain.img"));
        }
    }
}
