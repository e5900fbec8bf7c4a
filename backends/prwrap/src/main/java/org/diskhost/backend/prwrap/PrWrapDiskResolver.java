package org.diskhost.backend.prwrap;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code prwrap}: the disk in setting {@code disk}, with persistent reservations emulated in memory.
 *
 * <p>The reservation state belongs to the configured disk, not to one chain: when the host rebuilds the chain (a
 * backend bundle in it was updated, this one included, or the disk was reconfigured), the prwrap disk hands its
 * registrations, reservation and generation to its successor, so a guest does not lose them to a swap it never
 * sees.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + PrWrapDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class PrWrapDiskResolver implements DiskResolver {
    public static final String KIND = "prwrap";
    static final String DISK = "disk";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(DISK);
        DiskSpec inner = settings.disk(DISK);
        ReservationState initial;
        try {
            initial = context.handedOver().map(ReservationState::restore).orElse(ReservationState.INITIAL);
        } catch (IllegalArgumentException e) {
            throw new ResolveException(new ResolveError.ResolverError(context.diskName(), KIND,
                    "cannot take over the reservations: " + e.getMessage()));
        }
        EmulatedReservations reservations = new EmulatedReservations(initial);
        context.handOverWith(() -> reservations.state().export());
        return context.resolve(inner).thenApply(disk -> Disk.of(new ReservationDisk(disk, reservations)));
    }
}
