package org.diskhost.backend.crypt;

import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite over crypt disks, resolved by spec over in-memory and file disks of each shape. */
class CryptDiskConformanceTest {
    @TempDir
    Path dir;

    private ResolvedChain chain;

    Disk open(Map<String, Object> inner, boolean readOnly) {
        chain = new CryptDisks(dir).resolve(CryptDisks.crypt(inner), readOnly);
        return chain.disk();
    }

    /** After the suite closed the crypt disk: closes the disk below too, as its owner (the chain) does. */
    @AfterEach
    void closeChain() {
        if (chain != null) {
            chain.close();
        }
    }

    @Nested
    class OverMemory512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "memory"), false);
        }
    }

    @Nested
    class OverMemory4096Async extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "memory", "sectorSize", 4096, "sectors", 64, "async", true), false);
        }
    }

    /** Opened read-only by its user: the flag reaches the disk below, and the crypt disk refuses writes. */
    @Nested
    class ReadOnlyOverMemory extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "memory"), true);
        }
    }

    @Nested
    class OverFile512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "file", "path", "f512.img", "create", "1 MiB"), false);
        }
    }

    @Nested
    class OverFile4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "file", "path", "f4k.img", "create", "1 MiB", "sectorSize", 4096), false);
        }
    }

    /** O_DIRECT below: the staging buffers are page-aligned, so encrypted writes go to the file without a bounce. */
    @Nested
    class OverDirectFile4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "file", "path", "direct.img", "create", "1 MiB", "sectorSize", 4096,
                    "direct", true), false);
        }
    }

    /** The channel engine ignores unmaps, so the crypt disk reports IGNORED and unmaps never reach it. */
    @Nested
    class OverChannelFile512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return open(Map.of("kind", "file", "path", "channel.img", "create", "1 MiB", "engine", "channel"), false);
        }
    }
}
