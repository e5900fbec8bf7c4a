package org.diskhost.api.resolve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.junit.jupiter.api.Test;

class StandaloneResolutionTest {
    private final List<String> closed = new ArrayList<>();
    private final List<Boolean> readOnlyFlags = new ArrayList<>();

    private final class Leaf implements DiskIo {
        private final String name;

        Leaf(String name) {
            this.name = name;
        }

        public String diskType() {
            return "leaf";
        }

        public long sectorCount() {
            return 8;
        }

        public int sectorSize() {
            return 512;
        }

        public Optional<DiskId> diskId() {
            return Optional.empty();
        }

        public int physicalSectorSize() {
            return 512;
        }

        public boolean isFuaRespected() {
            return false;
        }

        public boolean isReadOnly() {
            return false;
        }

        public UnmapBehavior unmapBehavior() {
            return UnmapBehavior.IGNORED;
        }

        public CompletableFuture<Void> readVectored(RequestBuffers b, long s) {
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> writeVectored(RequestBuffers b, long s, boolean f) {
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> syncCache() {
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> unmap(long s, long c, boolean b) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            closed.add(name);
        }
    }

    private final DiskResolver leaf = new DiskResolver() {
        public String kind() {
            return "leaf";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            readOnlyFlags.add(context.readOnly());
            return CompletableFuture.completedFuture(Disk.of(new Leaf(spec.settings().string("name"))));
        }
    };

    private final DiskResolver wrap = new DiskResolver() {
        public String kind() {
            return "wrap";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            return context.resolve(spec.settings().disk("disk"), true).thenApply(inner -> Disk.of(
                    new ForwardingDiskIo(inner) {
                        public String diskType() {
                            return "wrap";
                        }

                        @Override
                        public void close() {
                            closed.add("wrap");
                        }
                    }));
        }
    };

    @Test
    void nestedDisksResolveThroughTheContextAndCloseTopFirst() {
        StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), leaf, wrap);
        var chain = resolution.resolve("d", Map.of("kind", "wrap", "disk", Map.of("kind", "leaf", "name", "a")),
                false).join();
        assertEquals("wrap", chain.disk().diskType());
        assertEquals(List.of(true), readOnlyFlags, "a nested resolution may add read-only-ness");
        chain.close();
        assertEquals(List.of("wrap", "a"), closed);
    }

    @Test
    void anUnknownKindIsANoResolverErrorNamingTheDisk() {
        StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), wrap);
        CompletionException e = assertThrows(CompletionException.class, () -> resolution.resolve("d",
                Map.of("kind", "wrap", "disk", Map.of("kind", "nope")), false).join());
        ResolveError error = ((ResolveException) e.getCause()).error();
        assertInstanceOf(ResolveError.NoResolver.class, error);
        assertEquals("disk 'd': no resolver for kind 'nope'", error.message());
    }
}
