package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;
import org.diskhost.format.vhd.VhdFooter;

/**
 * Resolves kind {@code vhd}: an image detected by its content (VHDX, a fixed, dynamic or differencing VHD, or raw),
 * with its differencing chain, served as one disk. Settings: {@code path} (required), {@code readOnly},
 * {@code create} (a size: create a dynamic image if the file is missing), {@code blockSize} and {@code format} (of
 * the image {@code create} makes), {@code parent} (create a differencing image over this parent if the file is
 * missing), {@code ioThreads}.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + VhdDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class VhdDiskResolver extends ImageDiskResolver {
    public static final String KIND = "vhd";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    Disk open(Settings settings, boolean forceReadOnly) {
        VhdOptions options = VhdOptions.parseChain(settings, forceReadOnly);
        options.create().ifPresent(size -> ImageDisks.createIfMissing(settings, options, VhdOptions.CREATE,
                "a dynamic " + options.format().name() + " of " + ImageDisks.size(size), path -> {
                    if (options.format() == VhdOptions.Format.VHDX) {
                        Images.createVhdx(path, size, options.blockSize());
                    } else {
                        DynamicVhd.createDynamic(path, VhdFooter.chsRoundedSize(size), options.blockSize().orElse(
                                DynamicHeader.DEFAULT_BLOCK_SIZE));
                    }
                }));
        options.parent().ifPresent(parent -> ImageDisks.createIfMissing(settings, options, VhdOptions.PARENT,
                "a differencing image over " + parent, path -> createDifferencing(settings, path, parent)));
        return ImageDisks.open(settings, options, KIND, (path, readOnly) -> Images.openChain(path, readOnly, true));
    }

    /** A differencing image in the parent's format: VHD over a VHD, VHDX over a VHDX. */
    private static void createDifferencing(Settings settings, Path path, Path parent) throws IOException {
        if (!Files.isRegularFile(parent)) {
            throw settings.invalid(VhdOptions.PARENT, "no such file: " + parent);
        }
        switch (Images.detect(parent)) {
            case VHDX -> Images.createVhdxDifferencing(path, parent);
            case VHD -> {
                try (VhdFile image = Images.openVhd(parent, true)) {
                    DynamicVhd.createDifferencing(path, image, parent);
                }
            }
            case RAW -> throw settings.invalid(VhdOptions.PARENT, parent + " is neither a VHD nor a VHDX: a "
                    + "differencing image's parent is an image of its own format");
        }
    }
}
