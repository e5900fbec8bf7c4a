package org.diskhost.backend.crypt;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.testkit.MemoryDisk;

/**
 * Kind {@code memory} for tests: a {@link MemoryDisk} with settings {@code sectorSize} (512), {@code sectors} (256),
 * {@code readOnly} and {@code async} (complete requests on another thread). Counts its resolutions and remembers the
 * last disk, so tests can look at what a decorator stored.
 */
final class MemoryDiskResolver implements DiskResolver {
    private static final Executor ASYNC = ForkJoinPool.commonPool();

    private int resolutions;
    private MemoryDisk last;

    @Override
    public String kind() {
        return "memory";
    }

    @Override
    public synchronized CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        var settings = spec.settings();
        settings.allowOnly("sectorSize", "sectors", "readOnly", "async");
        MemoryDisk.Builder builder = MemoryDisk.builder((int) settings.integer("sectorSize", 512),
                settings.integer("sectors", 256))
                .readOnly(context.readOnly() || settings.bool("readOnly", false));
        if (settings.bool("async", false)) {
            builder.completeOn(ASYNC);
        }
        resolutions++;
        last = builder.build();
        return CompletableFuture.completedFuture(Disk.of(last));
    }

    synchronized int resolutions() {
        return resolutions;
    }

    synchronized MemoryDisk last() {
        return last;
    }
}
