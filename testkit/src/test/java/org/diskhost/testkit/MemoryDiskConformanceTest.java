package org.diskhost.testkit;

import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The in-memory disk passes the suite it is used to test others with. */
class MemoryDiskConformanceTest {
    @Nested
    class Sectors512 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Disk.of(MemoryDisk.of(512, 256));
        }
    }

    @Nested
    class Sectors4096Async extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Disk.of(MemoryDisk.builder(4096, 64).completeAsync().build());
        }
    }

    @Nested
    class ReadOnly extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return Disk.of(MemoryDisk.builder(512, 128).readOnly(true).build());
        }
    }

    @Test
    void resizeWakesWaiters() {
        MemoryDisk memory = MemoryDisk.builder(512, 64).capacity(128).build();
        Disk disk = Disk.of(memory);
        CompletableFuture<Long> waiting = disk.waitResize(64);
        assertFalse(waiting.isDone());
        memory.resize(100);
        assertEquals(100L, succeeds(waiting));
        assertEquals(100L, disk.sectorCount());
    }
}
