package org.diskhost.backend.striped;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code striped}: RAID-0 over the disks in {@code members} (resolved concurrently, with the chain's
 * read-only flag), in chunks of {@code chunkSize} (default 128 KiB), optionally limited to {@code sectorCount}
 * sectors. See {@link StripeLayout#of} for the checks.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + StripedDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class StripedDiskResolver implements DiskResolver {
    public static final String KIND = "striped";
    static final String MEMBERS = "members";
    static final String CHUNK_SIZE = "chunkSize";
    static final String SECTOR_COUNT = "sectorCount";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(MEMBERS, CHUNK_SIZE, SECTOR_COUNT);
        List<DiskSpec> memberSpecs = settings.disks(MEMBERS);
        long chunkSize = settings.optionalSize(CHUNK_SIZE).orElse(StripeLayout.DEFAULT_CHUNK_BYTES);
        OptionalLong sectorCount = settings.optionalInteger(SECTOR_COUNT);
        if (sectorCount.isPresent() && sectorCount.getAsLong() <= 0) {
            throw settings.invalid(SECTOR_COUNT, "must be positive, got " + sectorCount.getAsLong());
        }
        List<CompletableFuture<Disk>> members = new ArrayList<>(memberSpecs.size());
        for (DiskSpec member : memberSpecs) {
            members.add(context.resolve(member)); // all at once
        }
        return CompletableFuture.allOf(members.toArray(CompletableFuture[]::new)).handle((ok, failure) -> {
            List<Disk> disks = new ArrayList<>(members.size());
            for (CompletableFuture<Disk> member : members) {
                if (member.isCompletedExceptionally()) {
                    // The first failing member in list order; its error already names members[i].
                    throw ResolveException.of(member.exceptionNow(), settings.diskName(), KIND);
                }
                disks.add(member.join());
            }
            try {
                return Disk.of(new StripedDisk(disks, StripeLayout.of(disks, chunkSize, sectorCount)));
            } catch (StripeLayout.InvalidStripeException e) {
                throw settings.invalid(e.error().setting(), e.error().problem());
            }
        });
    }
}
