package org.diskhost.backend.vhd;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * What the {@code vhd1} and {@code vhd} resolvers share: they open their images at once (no nested disks), and
 * report every problem as a {@link ResolveException} naming the disk, the kind and the setting.
 */
abstract class ImageDiskResolver implements DiskResolver {
    @Override
    public final CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        return CompletableFuture.completedFuture(open(spec.settings(), context.readOnly()));
    }

    /**
     * Creates the image if the settings ask for it and it is missing, then opens it.
     *
     * @param forceReadOnly the user of the disk opens it read-only
     * @throws ResolveException for a bad setting or an image that cannot be created or opened
     */
    abstract Disk open(Settings settings, boolean forceReadOnly);
}
