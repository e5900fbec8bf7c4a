package org.diskhost.backend.blockdevice;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.RegisteredController;
import org.diskhost.api.pr.ReservationCapabilities;
import org.diskhost.api.pr.ReservationReport;
import org.diskhost.api.pr.ReservationType;
import org.diskhost.nativeio.ioctl.NvmePassthrough;
import org.diskhost.nativeio.ioctl.PrIoctls;

/**
 * Persistent reservations of an NVMe namespace, as the reference does them: the actions through the Linux PR ioctls
 * (which the NVMe driver turns into Reservation Register/Acquire/Release), the report through NVMe I/O passthrough
 * (the ioctls have no report). Offered only where the controller's ONCS has reservations and the namespace's RESCAP
 * is not zero.
 *
 * <p>These machines have no NVMe (nor SCSI or device-mapper) device, so only the ioctl numbers, struct layouts and
 * report parsing are tested here, in the ioctl library; this class is the thin mapping between them and the API.
 */
final class BlockReservations implements PersistentReservation {
    private static final Logger LOG = Logger.getLogger(BlockReservations.class.getName());

    private final int fd;
    private final int namespaceId;
    private final int rescap;
    private final IoThreads threads;
    private final String where;

    BlockReservations(int fd, int namespaceId, int rescap, IoThreads threads, String where) {
        this.fd = fd;
        this.namespaceId = namespaceId;
        this.rescap = rescap;
        this.threads = threads;
        this.where = where;
    }

    /** RESCAP (Identify Namespace byte 93): bit 0 persist through power loss, bits 1 to 6 the six types. */
    @Override
    public ReservationCapabilities capabilities() {
        return new ReservationCapabilities(bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(0));
    }

    private boolean bit(int n) {
        return (rescap & (1 << n)) != 0;
    }

    @Override
    public CompletableFuture<ReservationReport> report() {
        return call(() -> {
            NvmePassthrough.ReservationStatus status = NvmePassthrough.reservationReport(fd, namespaceId);
            return new ReservationReport(status.generation(), ReservationType.fromNvme(status.reservationType()),
                    status.persistThroughPowerLoss(), status.registrants().stream()
                            .map(r -> new RegisteredController(r.key(), r.hostId(), r.controllerId(),
                                    r.holdsReservation()))
                            .toList());
        });
    }

    @Override
    public CompletableFuture<Void> register(OptionalLong currentKey, long newKey,
            Optional<Boolean> persistThroughPowerLoss) {
        if (persistThroughPowerLoss.isPresent() && !persistThroughPowerLoss.get()) {
            // Linux's NVMe driver always registers with PTPL set; the ioctls cannot clear it.
            LOG.info(() -> where + ": persist-through-power-loss cannot be turned off through the PR ioctls; ignored");
        }
        return run(() -> PrIoctls.register(fd, currentKey.orElse(0), newKey,
                currentKey.isPresent() ? 0 : PrIoctls.PR_FL_IGNORE_KEY));
    }

    @Override
    public CompletableFuture<Void> reserve(long key, ReservationType type) {
        return run(() -> PrIoctls.reserve(fd, key, type.linuxCode(), 0));
    }

    @Override
    public CompletableFuture<Void> release(long key, ReservationType type) {
        return run(() -> PrIoctls.release(fd, key, type.linuxCode(), 0));
    }

    @Override
    public CompletableFuture<Void> clear(long key) {
        return run(() -> PrIoctls.clear(fd, key, 0));
    }

    @Override
    public CompletableFuture<Void> preempt(long currentKey, long preemptKey, ReservationType type, boolean abort) {
        return run(() -> PrIoctls.preempt(fd, currentKey, preemptKey, type.linuxCode(), abort, 0));
    }

    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    private CompletableFuture<Void> run(Action action) {
        return call(() -> {
            action.run();
            return null;
        });
    }

    /** The ioctls block: they run on the disk's I/O threads. */
    private <T> CompletableFuture<T> call(Callable<T> call) {
        return threads.call(call).exceptionallyCompose(
                failure -> CompletableFuture.failedFuture(DeviceErrors.of(failure, Device.Kind.BLOCK_DEVICE, where)));
    }
}
