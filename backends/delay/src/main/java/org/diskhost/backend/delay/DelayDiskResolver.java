package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

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
 * Resolves kind {@code delay}: the disk in setting {@code disk}, with reads delayed by {@code readDelay} and writes
 * by {@code writeDelay} (durations, default 0). These are the initial delays; runtime changes come through
 * {@link LiveDelays} (in OSGi, from Configuration Admin: see {@link DelayComponent}).
 *
 * <p>This class is what {@link java.util.ServiceLoader} finds outside OSGi; inside OSGi the resolver service is
 * {@link DelayComponent}, which uses one of these.
 */
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class DelayDiskResolver implements DiskResolver {
    public static final String KIND = "delay";
    static final String DISK = "disk";
    static final String READ_DELAY = "readDelay";
    static final String WRITE_DELAY = "writeDelay";

    private final LiveDelays live;
    private final DelayTimer timer;

    /** A resolver with its own registry of live disks and the JDK's delay scheduler (for {@code ServiceLoader}). */
    public DelayDiskResolver() {
        this(new LiveDelays(), DelayTimer.SYSTEM);
    }

    DelayDiskResolver(LiveDelays live, DelayTimer timer) {
        this.live = Objects.requireNonNull(live, "live");
        this.timer = Objects.requireNonNull(timer, "timer");
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(DISK, READ_DELAY, WRITE_DELAY);
        DiskSpec inner = settings.disk(DISK);
        Delays delays = new Delays(DelayChange.delay(settings, READ_DELAY).orElse(Duration.ZERO),
                DelayChange.delay(settings, WRITE_DELAY).orElse(Duration.ZERO));
        return context.resolve(inner).thenApply(disk -> {
            DelayDisk delay = new DelayDisk(disk, context.diskName(), delays, timer, live);
            try {
                context.handedOver().ifPresent(delay::inherit);
            } catch (IllegalArgumentException e) {
                throw new ResolveException(new ResolveError.ResolverError(context.diskName(), KIND,
                        "cannot take over the delays: " + e.getMessage()));
            }
            live.register(delay);
            context.handOverWith(delay::export);
            return Disk.of(delay);
        });
    }
}
