package org.diskhost.backend.prwrap;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

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
 * Resolves kind {@code prwrap}: the disk in setting {@code disk}, with persistent reservations emulated in memory.
 *
 * <p>The reservation state belongs to the configured disk, not to one chain: when the host rebuilds a chain whose
 * spec did not change (a backend bundle below was updated), the new prwrap disk continues with the same
 * registrations and reservation, so a guest does not lose them to a swap it never sees. The state lives as long as
 * this resolver (the bundle); a changed spec starts afresh.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + PrWrapDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class PrWrapDiskResolver implements DiskResolver {
    public static final String KIND = "prwrap";
    static final String DISK = "disk";

    /**
     * Reservation state by the settings that built it. Settings compare by value and include the disk's name and
     * the place in its chain, so two prwrap layers never share state.
     */
    private final Map<Settings, EmulatedReservations> states = new ConcurrentHashMap<>();

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        DiskSpec inner;
        try {
            settings.allowOnly(DISK);
            inner = settings.disk(DISK);
        } catch (ResolveException e) {
            return CompletableFuture.failedFuture(e);
        }
        return context.resolve(inner).thenApply(disk -> Disk.of(new ReservationDisk(disk,
                states.computeIfAbsent(settings, s -> new EmulatedReservations()))));
    }
}
