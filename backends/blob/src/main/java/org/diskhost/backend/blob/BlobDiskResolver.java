package org.diskhost.backend.blob;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.diskhost.backend.blob.azure.AzureOptions;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code blob}: a disk image behind an HTTP(S) URL (see {@link BlobOptions} and {@link AzureOptions}
 * for the settings and the README for what they do). The open is asynchronous: the resolver returns before the server
 * has answered.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + BlobDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class BlobDiskResolver implements DiskResolver {
    public static final String KIND = "blob";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        BlobOptions options = BlobOptions.parse(settings.without(AzureOptions.NAMES), context.readOnly());
        AzureOptions azure = AzureOptions.parse(settings, options.url());
        return BlobDisk.open(context.diskName(), options,
                azure.azure() ? AzurePageBlob.hook(azure) : RequestHook.NONE,
                azure.azure() ? AzurePageBlob.factory(context.diskName(), azure) : BlobWrites.Factory.READ_ONLY)
                .handle((disk, failure) -> {
                    if (failure != null) {
                        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                                ? failure.getCause() : failure;
                        throw settings.failure(cause.getMessage(), cause);
                    }
                    if (!options.readOnly() && disk.isReadOnly()) {
                        disk.close();
                        throw refusedWrites(settings, disk);
                    }
                    return Disk.of(disk);
                });
    }

    /** The reference's "writable blob disks not supported", with the reason. */
    private static ResolveException refusedWrites(Settings settings, BlobDisk disk) {
        String what = disk.blob().blobType().map(type -> "an Azure " + type).orElse("a plain HTTP blob");
        return settings.invalid(BlobOptions.READ_ONLY, "writable blob disks are not supported for " + what
                + ": leave readOnly true (only Azure page blobs can be written)");
    }
}
