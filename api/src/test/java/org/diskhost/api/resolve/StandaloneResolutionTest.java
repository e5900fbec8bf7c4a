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
import org.diskhost.api.layer.UnattachedLayer;
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

    /** A layer resolver that records the flags it is given and resolves a nested disk through its context. */
    private final List<String> layerCalls = new ArrayList<>();
    private final LayerResolver nestedLayer = new LayerResolver() {
        public String kind() {
            return "nested";
        }

        public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
            layerCalls.add(spec.kind() + " readOnly=" + context.readOnly());
            return context.resolve(spec.settings().disk("disk"))
                    .thenApply(disk -> below -> CompletableFuture.failedFuture(new IllegalStateException("unused")));
        }
    };

    /** A disk kind that resolves one layer with the flag in its settings, and serves the layer's nested disk. */
    private final DiskResolver stack = new DiskResolver() {
        public String kind() {
            return "stack";
        }

        public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
            Settings layer = spec.settings().without("layerReadOnly");
            DiskSpec layerSpec = layer.disk("layer");
            return context.resolveLayer(layerSpec, spec.settings().bool("layerReadOnly", false))
                    .thenApply(unattached -> Disk.of(new Leaf("stack")));
        }
    };

    @Test
    void layersResolveThroughTheContextWithTheirOwnReadOnlyFlag() {
        StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), List.of(leaf, stack),
                List.of(nestedLayer));
        assertEquals(java.util.Set.of("nested"), resolution.layerKinds());
        var chain = resolution.resolve("d", Map.of("kind", "stack", "layerReadOnly", false, "layer",
                Map.of("kind", "nested", "disk", Map.of("kind", "leaf", "name", "x"))), true).join();
        assertEquals(List.of("nested readOnly=false"), layerCalls, "a read cache may be writable on a read-only disk");
        assertEquals(List.of(false), readOnlyFlags, "the layer's nested disk gets the layer's flag");
        assertEquals(List.of("stack", "nested", "leaf"), List.copyOf(chain.kinds()));
        assertEquals(true, chain.uses(nestedLayer));
        chain.close();
        assertEquals(List.of("stack", "x"), closed);
    }

    @Test
    void anUnknownLayerKindIsANoResolverError() {
        StandaloneResolution resolution = StandaloneResolution.of(Path.of("."), leaf, stack);
        CompletionException e = assertThrows(CompletionException.class, () -> resolution.resolve("d",
                Map.of("kind", "stack", "layer", Map.of("kind", "ram")), false).join());
        assertEquals(new ResolveError.NoResolver("d", "ram"), ((ResolveException) e.getCause()).error());
    }
}
