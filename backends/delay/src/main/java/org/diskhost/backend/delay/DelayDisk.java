package org.diskhost.backend.delay;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * Kind {@code delay}: the disk below, with each read and each write sent on only after its current delay. The
 * delays are read per request, so a change ({@link #setDelays}) applies to the next request; requests already
 * waiting keep the delay they started with. No thread waits: a {@link DelayTimer} completes the wait.
 *
 * <p>Flush, unmap, reservations ({@code pr()}), {@link #waitResize} and all metadata pass through without delay. As
 * in the reference, eject is not forwarded and fails with {@code UnsupportedEject}.
 */
final class DelayDisk extends ForwardingDiskIo {
    private final String diskName;
    private final Delays configured;
    private final DelayTimer timer;
    private final LiveDelays registry;
    private volatile Delays current;
    /** Where the current delays come from: {@code "spec"} or the configuration's PID. */
    private volatile String source = "spec";
    /**
     * Delays a runtime change gave the predecessor of this disk (before a chain rebuild), which apply until this
     * bundle hears of that change again (Configuration Admin redelivers it) or of its deletion; null if none.
     */
    private volatile Delays inherited;
    private volatile String inheritedSource;

    /** The handover format of the delays in force. Version 1: read, write (durations), source. */
    static final String HANDOVER_FORMAT = "org.diskhost.delay";
    private static final int HANDOVER_VERSION = 1;

    /**
     * @param diskName the configured disk this layer belongs to, as runtime changes address it
     * @param configured the delays from the disk's spec, used when no runtime change applies
     * @param registry where the disk registers while open, so runtime changes reach it; it is told on close
     */
    DelayDisk(Disk inner, String diskName, Delays configured, DelayTimer timer, LiveDelays registry) {
        super(inner);
        this.diskName = Objects.requireNonNull(diskName, "diskName");
        this.configured = Objects.requireNonNull(configured, "configured");
        this.current = configured;
        this.timer = Objects.requireNonNull(timer, "timer");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    String diskName() {
        return diskName;
    }

    /** The delays from the spec. */
    Delays configured() {
        return configured;
    }

    /** The delays the next requests get. */
    Delays delays() {
        return current;
    }

    /** The delays in force and where they come from, for the disk that replaces this one in a rebuilt chain. */
    HandoverState export() {
        Delays now = current;
        return new HandoverState(HANDOVER_FORMAT, HANDOVER_VERSION, Map.of("read", now.read(), "write", now.write(),
                "source", source));
    }

    /**
     * Takes over the delays a predecessor {@linkplain #export() exported} if a runtime change set them (delays from
     * the spec come from this disk's own spec).
     *
     * @throws IllegalArgumentException when the state is not one this version reads
     */
    void inherit(HandoverState state) {
        state.require(HANDOVER_FORMAT, HANDOVER_VERSION);
        Delays delays = new Delays(state.duration("read"), state.duration("write"));
        String from = state.string("source");
        if (!from.equals("spec")) {
            inherited = delays;
            inheritedSource = from;
        }
    }

    /** The delays inherited from a runtime change, while no change for this disk has been heard of since. */
    java.util.Optional<Delays> inherited() {
        return java.util.Optional.ofNullable(inherited);
    }

    String inheritedSource() {
        return inheritedSource;
    }

    /** A runtime change for this disk arrived or was deleted: what was inherited no longer applies. */
    void forgetInherited() {
        inherited = null;
    }

    /** Changes the delays of the requests from now on; {@code source} says where they come from. */
    void setDelays(Delays delays, String source) {
        this.current = Objects.requireNonNull(delays, "delays");
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public String diskType() {
        return DelayDiskResolver.KIND;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return delayed(current.read(), () -> inner.readVectored(buffers, sector));
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return delayed(current.write(), () -> inner.writeVectored(buffers, sector, fua));
    }

    private CompletableFuture<Void> delayed(Duration delay, Supplier<CompletableFuture<Void>> request) {
        if (delay.isZero()) {
            return request.get(); // no scheduling at all on the undelayed path
        }
        return timer.after(delay).thenCompose(v -> request.get());
    }

    @Override
    public CompletableFuture<Void> eject() {
        return DiskException.failed(new DiskError.UnsupportedEject());
    }

    /** Stops receiving runtime changes; the disk below stays open (its owner closes it). */
    @Override
    public void close() {
        registry.unregister(this);
    }

    @Override
    public void inspect(Inspector out) {
        Delays d = current;
        out.value("read_delay", Delays.show(d.read()))
                .value("write_delay", Delays.show(d.write()))
                .value("delays_from", source);
        super.inspect(out);
    }
}
