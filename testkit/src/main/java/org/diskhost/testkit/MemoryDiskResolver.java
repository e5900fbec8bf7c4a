package org.diskhost.testkit;

import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;

/**
 * Resolves kind {@value #KIND} for tests: a fresh {@link MemoryDisk}, so that a decorator's chain can be built
 * through {@link org.diskhost.api.resolve.StandaloneResolution} without files. The settings:
 *
 * <ul>
 * <li>{@code sectors}: the sector count (default {@value #DEFAULT_SECTORS});</li>
 * <li>{@code sectorSize}: bytes per sector (default {@value #DEFAULT_SECTOR_SIZE});</li>
 * <li>{@code id}: optional; the disk is kept under this name, for tests that look at what landed on it
 * ({@link #disk(String)}). A later disk with the same id replaces the earlier one.</li>
 * </ul>
 *
 * <p>Any other setting is refused. The disk is read-only when the {@link ResolveContext} says so. It is not
 * published for {@link java.util.ServiceLoader}: a test passes an instance to the resolution it builds.
 */
public final class MemoryDiskResolver implements DiskResolver {
    public static final String KIND = "memory";
    public static final long DEFAULT_SECTORS = 256;
    public static final int DEFAULT_SECTOR_SIZE = 512;

    private final Map<String, MemoryDisk> disks = new ConcurrentHashMap<>();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        return CompletableFuture.completedFuture(Disk.of(create(spec.settings(), context.readOnly())));
    }

    private MemoryDisk create(Settings settings, boolean readOnly) {
        settings.allowOnly("id", "sectors", "sectorSize");
        MemoryDisk disk = MemoryDisk.builder((int) settings.integer("sectorSize", DEFAULT_SECTOR_SIZE),
                settings.integer("sectors", DEFAULT_SECTORS)).readOnly(readOnly).build();
        settings.optionalString("id").ifPresent(id -> disks.put(id, disk));
        return disk;
    }

    /** The disk last resolved with setting {@code id}; fails if there is none. */
    public MemoryDisk disk(String id) {
        MemoryDisk disk = disks.get(id);
        if (disk == null) {
            throw new NoSuchElementException("no memory disk with id '" + id + "' (known: " + disks.keySet() + ")");
        }
        return disk;
    }
}
