package org.example.diskhost.faults;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code faults}: the disk in setting {@code disk}, with the faults of the other settings (see
 * {@link FaultRule#parse}). These are the initial faults; runtime changes come through {@link LiveFaults} (in OSGi,
 * from Configuration Admin: see {@link FaultsComponent}).
 *
 * <p>This class is what {@link java.util.ServiceLoader} finds outside OSGi; inside OSGi the resolver service is
 * {@link FaultsComponent}, which uses one of these.
 */
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class FaultsDiskResolver implements DiskResolver {
    public static final String KIND = "faults";
    static final String DISK = "disk";

    private final LiveFaults live;

    /** A resolver with its own registry of live disks (for {@code ServiceLoader}: no runtime changes). */
    public FaultsDiskResolver() {
        this(new LiveFaults());
    }

    FaultsDiskResolver(LiveFaults live) {
        this.live = Objects.requireNonNull(live, "live");
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(Stream.concat(Stream.of(DISK), Arrays.stream(FaultRule.SETTINGS)).toArray(String[]::new));
        DiskSpec inner = settings.disk(DISK);
        FaultRule rule = FaultRule.parse(settings); // bad settings fail before the disk below is opened
        Map<String, Object> values = new LinkedHashMap<>(settings.without(DISK).values());
        rule.file().ifPresent(f -> values.put(FaultRule.FILE, f.toString())); // relative to the data directory
        return context.resolve(inner).thenApply(disk -> {
            if (rule.from() >= disk.sectorCount()) {
                throw settings.invalid(FaultRule.FROM, "sector " + rule.from() + " is beyond the disk below, which has "
                        + disk.sectorCount() + " sectors");
            }
            FaultsDisk faults = new FaultsDisk(disk, context.diskName(), values, live);
            try {
                context.handedOver().ifPresent(faults::inherit);
            } catch (IllegalArgumentException e) {
                throw new ResolveException(new ResolveError.ResolverError(context.diskName(), KIND,
                        "cannot take over the runtime faults: " + e.getMessage()));
            }
            live.register(faults);
            context.handOverWith(faults::export);
            return Disk.of(faults);
        });
    }
}
