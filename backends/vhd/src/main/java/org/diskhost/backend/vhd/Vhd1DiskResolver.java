package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code vhd1}: a fixed VHD, as the reference's {@code Vhd1Disk} serves it (its checks, in its
 * order; 512-byte sectors; the footer's unique id as the disk id). Settings: {@code path} (required),
 * {@code readOnly}, {@code create} (a size: create a fixed VHD if the file is missing), {@code fromRaw} (append a
 * footer to a file that has none), {@code ioThreads}.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + Vhd1DiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class Vhd1DiskResolver extends ImageDiskResolver {
    public static final String KIND = "vhd1";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    Disk open(Settings settings, boolean forceReadOnly) {
        VhdOptions options = VhdOptions.parseFixed(settings, forceReadOnly);
        options.create().ifPresent(size -> ImageDisks.createIfMissing(settings, options, VhdOptions.CREATE,
                "a fixed VHD of " + ImageDisks.size(size), path -> FixedVhd.create(path, size)));
        if (options.fromRaw() && Files.isRegularFile(options.path())) {
            appendFooterIfRaw(settings, options);
        }
        return ImageDisks.open(settings, options, KIND, (path, readOnly) -> List.of(FixedVhd.open(path, readOnly)));
    }

    /** A file whose end is not a VHD footer gets one; a damaged footer is left for the open to report. */
    private static void appendFooterIfRaw(Settings settings, VhdOptions options) {
        try {
            if (Images.detect(options.path()) == Images.Format.RAW) {
                FixedVhd.appendFooter(options.path());
            }
        } catch (IOException e) {
            throw settings.failure("cannot make " + options.path() + " a fixed VHD: " + e.getMessage(), e);
        }
    }
}
