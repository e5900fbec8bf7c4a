package org.example.diskhost.faults;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.handover.HandoverState;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.resolve.Settings;

/**
 * Kind {@code faults}: the disk below, with the requests its {@link FaultRule} picks failed before they reach it.
 * The rule is read per request, so a runtime change ({@link #change}) applies to the next request. A failed request
 * never reaches the disk below; a request that lies (partly) past the end of the disk is never failed here, so the
 * disk below refuses it as it always does; every other request, and all metadata, reservations and resize waits, pass
 * through unchanged. Eject is not supported.
 */
final class FaultsDisk extends ForwardingDiskIo {
    /** The source of a rule that no runtime change touched. */
    static final String SPEC = "spec";

    /** The handover format: the runtime change in force. Version 1: {@code source}, {@code settings}. */
    static final String HANDOVER_FORMAT = "org.example.diskhost.faults";
    private static final int HANDOVER_VERSION = 1;

    private final String diskName;
    /** The spec's settings (without {@code disk}; {@code file} made absolute), which a change overrides. */
    private final Map<String, Object> spec;
    private final LiveFaults registry;
    private final AtomicLongArray injected = new AtomicLongArray(Operation.values().length);
    /** The rule in force and the change it comes from, replaced together. */
    private volatile InForce inForce;
    /** A change the predecessor of this disk had, kept until this bundle hears of a change for this disk. */
    private volatile FaultChange inherited;

    FaultsDisk(Disk inner, String diskName, Map<String, Object> spec, LiveFaults registry) {
        super(inner);
        this.diskName = Objects.requireNonNull(diskName, "diskName");
        this.spec = Map.copyOf(spec);
        this.registry = Objects.requireNonNull(registry, "registry");
        this.inForce = new InForce(FaultRule.parse(settings(Map.of())), new FaultChange(SPEC, diskName, Map.of()));
    }

    String diskName() {
        return diskName;
    }

    /** The rule the next request meets. */
    FaultRule rule() {
        return inForce.rule();
    }

    /** Where the rule in force comes from: {@value #SPEC} or the PID of the runtime change. */
    String source() {
        return inForce.change().source();
    }

    /** How many requests of {@code op} this disk has failed. */
    long injected(Operation op) {
        return injected.get(op.ordinal());
    }

    /**
     * Applies the spec's settings with {@code overrides} replacing some; {@code source} says where they come from.
     *
     * @throws org.diskhost.api.resolve.ResolveException if the merged settings are not valid (a change is checked
     *         alone before it gets here, so this does not happen for the settings this bundle accepts)
     */
    void change(Map<String, Object> overrides, String source) {
        inForce = new InForce(FaultRule.parse(settings(overrides)), new FaultChange(source, diskName, overrides));
    }

    private Settings settings(Map<String, Object> overrides) {
        Map<String, Object> merged = new LinkedHashMap<>(spec);
        merged.putAll(overrides);
        return Settings.of(diskName, FaultsDiskResolver.KIND, merged, null);
    }

    /** The runtime change in force, for the disk that replaces this one in a rebuilt chain. */
    HandoverState export() {
        FaultChange now = inForce.change();
        return new HandoverState(HANDOVER_FORMAT, HANDOVER_VERSION, Map.of("source", now.source(),
                "settings", Map.copyOf(now.values())));
    }

    /**
     * Takes over the runtime change a predecessor {@linkplain #export() exported}, if it had one (its spec's settings
     * come from this disk's own spec).
     *
     * @throws IllegalArgumentException when the state is not one this version reads, or its settings are invalid
     */
    void inherit(HandoverState state) {
        state.require(HANDOVER_FORMAT, HANDOVER_VERSION);
        String source = state.string("source");
        if (source.equals(SPEC)) {
            return;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        Map<?, ?> settings = state.value("settings", Map.class);
        for (Map.Entry<?, ?> e : settings.entrySet()) {
            values.put(String.valueOf(e.getKey()), FaultChange.handable(e.getValue()));
        }
        try {
            FaultRule.parse(settings(values));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the handed-over change " + source + " is not valid here: "
                    + e.getMessage(), e);
        }
        inherited = new FaultChange(source, diskName, values);
    }

    Optional<FaultChange> inherited() {
        return Optional.ofNullable(inherited);
    }

    void forgetInherited() {
        inherited = null;
    }

    @Override
    public String diskType() {
        return FaultsDiskResolver.KIND;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return unlessFault(Operation.READ, sector, buffers.length() / sectorSize(),
                () -> inner.readVectored(buffers, sector));
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return unlessFault(Operation.WRITE, sector, buffers.length() / sectorSize(),
                () -> inner.writeVectored(buffers, sector, fua));
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return unlessFault(Operation.FLUSH, 0, 0, inner::syncCache);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        return unlessFault(Operation.UNMAP, sector, count, () -> inner.unmap(sector, count, blockLevelOnly));
    }

    private CompletableFuture<Void> unlessFault(Operation op, long sector, long count,
            Supplier<CompletableFuture<Void>> request) {
        FaultRule r = inForce.rule();
        // A range past the end is the disk below's to refuse (IllegalBlock): a fault must not hide that.
        if (Long.compareUnsigned(sector, sectorCount()) >= 0 || Long.compareUnsigned(count, sectorCount() - sector) > 0
                || !r.fires(op, sector, count)) {
            return request.get();
        }
        injected.incrementAndGet(op.ordinal());
        DiskError error = r.errorFor(op);
        return DiskException.failed(error, "fault injected by disk '" + diskName + "', kind 'faults'");
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
        InForce now = inForce;
        now.rule().toSettings().forEach((name, value) -> out.value(name, String.valueOf(value)));
        out.value("armed", now.rule().armed()).value("faults_from", now.change().source());
        for (Operation op : Operation.values()) {
            out.value("injected_" + op.settingName(), injected(op));
        }
        super.inspect(out);
    }

    /** A rule and the runtime change (or the spec) it was made from. */
    private record InForce(FaultRule rule, FaultChange change) {
    }
}
