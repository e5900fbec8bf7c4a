package org.diskhost.backend.layered;

import org.diskhost.api.Disk;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.testkit.LayerConformance;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Nested;

/** The layer conformance suite over this bundle's layer kinds. */
class LayerConformanceTest {

    @Nested
    class Ram512 extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            return Stacks.ram(512, 256);
        }
    }

    @Nested
    class Ram4096 extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            return Stacks.ram(4096, 64);
        }
    }

    /** A RAM layer whose watermark was lowered by a shrink: the grown part reads as present zeros. */
    @Nested
    class RamShrunkAndGrown extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            RamLayer ram = Stacks.ram(512, 128);
            ram.resize(64);
            ram.resize(128);
            return ram;
        }
    }

    @Nested
    class DiskOverMemory extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            return Stacks.memory(512, 128, false);
        }
    }

    @Nested
    class ReadOnlyDisk extends LayerConformance {
        @Override
        protected LayerIo openLayer() {
            return new DiskLayer(Disk.of(MemoryDisk.builder(4096, 64).readOnly(true).build()));
        }
    }
}
