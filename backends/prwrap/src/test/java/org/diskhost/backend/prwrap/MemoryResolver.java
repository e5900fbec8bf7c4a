package org.diskhost.backend.prwrap;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.diskhost.testkit.MemoryDisk;

/**
 * Kind {@code memory} for tests: a {@link MemoryDisk} of {@code sectors} sectors of {@code sectorSize} bytes
 * (default 512), read-only when the context says so. Each disk is kept under its {@code id}, for tests that look at
 * what landed on it.
 */
final class MemoryResolver implements DiskResolver {
    final Map<String, MemoryDisk> disks = new ConcurrentHashMap<>();

    @Override
    public String kind() {
        return "memory";
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings s = spec.settings();
        s.allowOnly("id", "sectors", "sectorSize");
        MemoryDisk disk = MemoryDisk.builder((int) s.integer("sectorSize", 512), s.integer("sectors", 256))
                .readOnly(context.readOnly()).build();
        s.optionalString("id").ifPresent(id -> disks.put(id, disk));
        return CompletableFuture.completedFuture(Disk.of(disk));
    }
}
