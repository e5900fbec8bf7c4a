package org.diskhost.backend.layered;

import static org.diskhost.backend.layered.Stacks.cache;
import static org.diskhost.backend.layered.Stacks.memory;
import static org.diskhost.backend.layered.Stacks.plain;
import static org.diskhost.backend.layered.Stacks.ram;
import static org.diskhost.backend.layered.Stacks.writeThrough;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskAssertions;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;

/** The disk conformance suite over layered disks of every shape: single layers, diffs, caches, write-through. */
class LayeredConformanceTest {
    private static final ExecutorService ASYNC = Executors.newFixedThreadPool(4);

    @AfterAll
    static void shutdown() {
        ASYNC.shutdownNow();
    }

    @Nested
    class OneRamLayer extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, plain(ram(512, 256)));
        }
    }

    @Nested
    class OneRamLayer4096 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, plain(ram(4096, 64)));
        }
    }

    @Nested
    class ReadOnlyRam extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(true, plain(ram(512, 128)));
        }
    }

    @Nested
    class TwoRamLayers extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, plain(ram(512, 256)), plain(ram(512, 256)));
        }
    }

    @Nested
    class RamCacheOverRam extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, plain(ram(512, 256)), cache(ram(512, 256)), plain(ram(512, 256)));
        }
    }

    /** A diff over a patterned, read-only memory disk that completes on other threads. */
    @Nested
    class RamDiffOverAsyncMemory extends DiskConformance {
        @Override
        protected Disk openDisk() {
            MemoryDisk base = MemoryDisk.builder(512, 256).completeOn(ASYNC).readOnly(true).build();
            DiskAssertions.pattern(base.content(), 5);
            return Stacks.disk(false, plain(ram(512, 256)), plain(new DiskLayer(Disk.of(base))));
        }
    }

    @Nested
    class ReadCacheOverReadOnlyDisk extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(true, cache(ram(512, 128)), plain(memory(512, 128, true)));
        }
    }

    @Nested
    class WriteThroughRamOverMemory extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, writeThrough(ram(4096, 64)), plain(memory(4096, 64, false)));
        }
    }

    /** A smaller lower layer: sectors beyond it read as zeros. */
    @Nested
    class SmallerLowerLayer extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Stacks.disk(false, plain(ram(512, 256)), plain(memory(512, 100, true)));
        }
    }
}
