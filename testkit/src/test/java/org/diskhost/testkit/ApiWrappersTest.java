package org.diskhost.testkit;

import static org.diskhost.testkit.WrapperContract.assertOverridesEveryMethod;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.junit.jupiter.api.Test;

/** The API's own wrappers forward every {@link DiskIo} method, and the check itself catches what it must. */
class ApiWrappersTest {

    @Test
    void diskForwardsEveryMethod() {
        assertOverridesEveryMethod(Disk.class, DiskIo.class, Map.of());
    }

    @Test
    void forwardingDiskIoForwardsEveryMethod() {
        assertOverridesEveryMethod(ForwardingDiskIo.class, DiskIo.class, Map.of(
                "diskType", "each decorator names itself",
                "close", "a decorator closes only itself, never the disk below (DiskIo.close)"));
    }

    @Test
    void aWrapperThatInheritsADefaultFails() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> assertOverridesEveryMethod(Partial.class, DiskIo.class, Map.of()));
        assertTrue(e.getMessage().contains("allocation(long,long) is not overridden"), e.getMessage());
        assertTrue(e.getMessage().contains("waitResize(long) is not overridden"), e.getMessage());
    }

    @Test
    void anExemptionThatIsNoLongerNeededFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> assertOverridesEveryMethod(Disk.class,
                DiskIo.class, Map.of("allocation", "stale")));
        assertTrue(e.getMessage().contains("allocation(long,long) is exempted, but Disk overrides it"),
                e.getMessage());
        e = assertThrows(AssertionError.class, () -> assertOverridesEveryMethod(Disk.class, DiskIo.class,
                Map.of("allocate", "a typo")));
        assertTrue(e.getMessage().contains("exemption allocate names no method of DiskIo"), e.getMessage());
    }

    /** Forwards the abstract methods only: the shape of the host's disk before it forwarded allocation. */
    private abstract static class Partial implements DiskIo {
        private final DiskIo inner;

        Partial(DiskIo inner) {
            this.inner = inner;
        }

        public String diskType() {
            return inner.diskType();
        }

        public long sectorCount() {
            return inner.sectorCount();
        }

        public int sectorSize() {
            return inner.sectorSize();
        }

        public Optional<DiskId> diskId() {
            return inner.diskId();
        }

        public int physicalSectorSize() {
            return inner.physicalSectorSize();
        }

        public boolean isFuaRespected() {
            return inner.isFuaRespected();
        }

        public boolean isReadOnly() {
            return inner.isReadOnly();
        }

        public UnmapBehavior unmapBehavior() {
            return inner.unmapBehavior();
        }

        public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
            return inner.readVectored(buffers, sector);
        }
    }
}
