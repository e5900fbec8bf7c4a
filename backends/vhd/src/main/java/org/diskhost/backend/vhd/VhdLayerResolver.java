package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * Resolves layer kind {@code vhd}: one image file (a dynamic VHD, or any image the content says) as a layer, so that
 * a {@code layered} disk can keep a VHD difference over any disk. Settings: {@code path} (required), {@code create}
 * ({@code true}: a missing file is created as a dynamic VHD when the layer is attached), {@code size} (of a created
 * file; by default the layer below's), {@code blockSize} (of a created file, 2 MiB), {@code ioThreads}.
 */
@Component(service = LayerResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + VhdLayerResolver.KIND)
@ServiceProvider(value = LayerResolver.class, resolution = Resolution.OPTIONAL)
public final class VhdLayerResolver implements LayerResolver {
    public static final String KIND = "vhd";
    static final String SIZE = "size";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(VhdOptions.PATH, VhdOptions.CREATE, SIZE, VhdOptions.BLOCK_SIZE, VhdOptions.IO_THREADS);
        Path path = settings.path(VhdOptions.PATH);
        boolean create = settings.bool(VhdOptions.CREATE, true);
        OptionalLong size = VhdOptions.imageSize(settings, SIZE);
        int blockSize = VhdOptions.blockSize(settings).orElse(DynamicHeader.DEFAULT_BLOCK_SIZE);
        int ioThreads = VhdOptions.ioThreads(settings);
        boolean readOnly = context.readOnly();
        UnattachedLayer layer = below -> {
            try {
                return CompletableFuture.completedFuture(attach(settings, path, create, size, blockSize, readOnly,
                        ioThreads, below));
            } catch (ResolveException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
        return CompletableFuture.completedFuture(layer);
    }

    /**
     * Creates the file if it is missing and may be created (exactly the layer's size: the layer must match the
     * layers below, not a CHS geometry), then opens it alone, without parents.
     */
    private static LayerIo attach(Settings settings, Path path, boolean create, OptionalLong size, int blockSize,
            boolean readOnly, int ioThreads, Optional<LowerLayer> below) {
        if (below.isPresent() && below.get().sectorSize() != 512) {
            throw settings.failure("a VHD layer has 512-byte sectors, but the layer below has "
                    + below.get().sectorSize(), null);
        }
        if (!Files.exists(path)) {
            if (!create) {
                throw settings.failure("no such file: " + path + " (set '" + VhdOptions.CREATE + "' to create it)",
                        null);
            }
            if (readOnly) {
                throw settings.invalid(VhdOptions.CREATE, "cannot create " + path + " for a read-only layer");
            }
            long bytes = size.isPresent() ? size.getAsLong() : below.map(LowerLayer::byteSize).orElseThrow(
                    () -> settings.invalid(SIZE, "missing: a new file takes it from the layer below, and there is "
                            + "none"));
            try {
                if (path.getParent() != null) {
                    Files.createDirectories(path.getParent());
                }
                DynamicVhd.createDynamic(path, bytes, blockSize);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Created concurrently: use it.
            } catch (IllegalArgumentException e) {
                throw settings.invalid(SIZE, e.getMessage());
            } catch (IOException e) {
                throw settings.failure("cannot create " + path + ": " + e.getMessage(), e);
            }
        }
        ImageFile image;
        try {
            image = Images.open(path, readOnly, false);
        } catch (ImageFormatException e) {
            throw settings.failure(e.getMessage(), null);
        } catch (IOException e) {
            throw settings.failure("cannot open " + path + ": " + e.getMessage(), e);
        }
        if (image.virtualSize() < image.logicalSectorSize()) {
            Images.closeAll(java.util.List.of(image));
            throw settings.failure(path + " is smaller than one sector", null);
        }
        return new VhdLayer(image, ioThreads);
    }
}
