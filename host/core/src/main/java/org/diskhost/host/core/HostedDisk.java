package org.diskhost.host.core;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Logger;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.handover.Handover;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolvedChain;

/**
 * A named disk owned by the host: a stable {@link DiskIo} whose backing chain can be replaced underneath it.
 * Frontends hold the {@link Disk} published for it and never see a backend object, so rebuilding the chain (a
 * resolver's bundle went away and came back, or the configuration changed) is invisible to them: while no chain
 * serves the disk, requests wait, and they run on the new chain once it is up.
 *
 * <p>A swap: {@link #pause} closes the door, waits for the requests in flight, collects the state the chain's
 * elements hand over, and closes the old chain; {@link #activate} opens the door on the new chain, which was built
 * with that state ({@link #handover()}). The disk counts its swaps and measures each pause and the requests it held.
 */
final class HostedDisk implements DiskIo {
    private static final Logger LOG = Logger.getLogger(HostedDisk.class.getName());

    /** Where the disk is in its life. */
    enum State {
        /** Its chain is being built. */
        RESOLVING,
        /** A chain serves requests. */
        READY,
        /** No chain: waiting for a resolver; requests wait until it comes or the wait times out. */
        WAITING,
        /** The chain could not be built; requests fail. */
        FAILED,
        /** The disk was removed from the configuration. */
        CLOSED
    }

    final String name;
    final String pid;
    private DiskSpec spec;
    private boolean readOnly;
    private volatile ActiveChain active;
    /** Completes when a chain is active; fails when the disk failed. Guarded by this. */
    private CompletableFuture<Void> gate = new CompletableFuture<>();
    private State state = State.RESOLVING;
    private String reason = "";
    /** The kind a waiting disk's rebuild lacks. */
    private String waitingFor;
    /** For {@link #failWaiting(long, String)}: whichever rebuild the disk waits in. */
    private static final long ANY_GENERATION = -1;
    /** Bumped on every rebuild, so that a late result of an older one is dropped. */
    private long generation;
    /** Chains built for this disk, the first included. */
    private long chainBuilds;
    /** When the last pause began (epoch ms), for display. */
    private long lastPauseMillis;
    /** When the current pause began (nanoTime), or 0 while no pause is open. Guarded by this. */
    private long pausedAtNanos;
    /** Chains replaced under the running disk. Guarded by this. */
    private long swaps;
    private long lastPauseNanos;
    private long maxPauseNanos;
    private long lastHeld;
    /** Requests that waited in the current pause. */
    private final AtomicLong held = new AtomicLong();
    /** What the last chain handed over, until a successor is active. Guarded by this. */
    private Handover handover = Handover.NONE;
    /** The elements of the active chain, with the bundles that built them. Guarded by this. */
    private List<ChainElement> elements = List.of();
    /** Metadata of the last chain, for a disk that is paused. */
    private volatile Disk lastDisk;
    /** Completes when the next chain is activated. Guarded by this. */
    private CompletableFuture<Void> nextActivation = new CompletableFuture<>();
    /** Told after every change of the state or the reason, outside this disk's lock. */
    private volatile Runnable onChange = () -> {
    };

    HostedDisk(String name, String pid, DiskSpec spec, boolean readOnly) {
        this.name = name;
        this.pid = pid;
        this.spec = spec;
        this.readOnly = readOnly;
    }

    synchronized DiskSpec spec() {
        return spec;
    }

    synchronized boolean readOnly() {
        return readOnly;
    }

    synchronized State state() {
        return state;
    }

    synchronized String reason() {
        return reason;
    }

    /** Sets what is told, outside this disk's lock, after every change of {@link #state()} or {@link #reason()}. */
    void onChange(Runnable listener) {
        onChange = listener;
    }

    private void changed() {
        onChange.run();
    }

    synchronized void reconfigure(DiskSpec spec, boolean readOnly) {
        this.spec = spec;
        this.readOnly = readOnly;
    }

    /** The active chain's kinds, top first, as {@code crypt > file}; or the configured kind when none is active. */
    String chainDescription() {
        ActiveChain a = active;
        return a != null ? String.join(" > ", a.chain.kinds()) : spec().kind();
    }

    /** True when the active chain was built (in part) by {@code resolver}. */
    boolean uses(org.diskhost.api.resolve.DiskResolver resolver) {
        ActiveChain a = active;
        return a != null && a.chain.uses(resolver);
    }

    /** True when the active chain has a layer built by {@code resolver}. */
    boolean uses(org.diskhost.api.resolve.LayerResolver resolver) {
        ActiveChain a = active;
        return a != null && a.chain.uses(resolver);
    }

    // ---- chain lifecycle (called by the host) ----

    /** Starts a rebuild: requests wait from now on. Returns the rebuild's generation. */
    long beginRebuild() {
        long started;
        synchronized (this) {
            if (gate.isDone()) {
                gate = new CompletableFuture<>();
            }
            state = State.RESOLVING;
            reason = "";
            started = ++generation;
        }
        changed();
        return started;
    }

    /**
     * Stops serving from the active chain, waits up to {@code drainMillis} for its requests in flight, and closes
     * it. Requests that arrive meanwhile wait for the next chain.
     */
    void pause(String why, long drainMillis) {
        ActiveChain old;
        synchronized (this) {
            old = active;
            active = null;
            if (gate.isDone()) {
                gate = new CompletableFuture<>();
            }
            state = State.WAITING;
            reason = why;
            if (old != null && pausedAtNanos == 0) {
                pausedAtNanos = System.nanoTime();
                lastPauseMillis = System.currentTimeMillis();
                held.set(0);
            }
        }
        changed();
        if (old != null) {
            Handover state = retire(old, drainMillis);
            synchronized (this) {
                handover = state;
            }
        }
    }

    /** The state the last chain handed over, for its successor; empty once a successor is active. */
    synchronized Handover handover() {
        return handover;
    }

    /** Makes {@code chain} serve the disk, if {@code generation} is still current; else closes it. */
    boolean activate(long generation, ResolvedChain chain) {
        return activate(generation, chain, List.of());
    }

    /** As {@link #activate(long, ResolvedChain)}, recording which bundles built the chain's elements. */
    boolean activate(long generation, ResolvedChain chain, List<ChainElement> elements) {
        CompletableFuture<Void> open;
        CompletableFuture<Void> activated;
        ActiveChain old;
        synchronized (this) {
            if (generation != this.generation || state == State.CLOSED) {
                chain.close();
                return false;
            }
            old = active;
            active = new ActiveChain(chain);
            lastDisk = chain.disk();
            state = State.READY;
            reason = "";
            chainBuilds++;
            this.elements = List.copyOf(elements);
            handover = Handover.NONE;
            if (pausedAtNanos != 0) {
                swaps++;
                lastPauseNanos = System.nanoTime() - pausedAtNanos;
                maxPauseNanos = Math.max(maxPauseNanos, lastPauseNanos);
                lastHeld = held.get();
                pausedAtNanos = 0;
            }
            open = gate;
            activated = nextActivation;
            nextActivation = new CompletableFuture<>();
        }
        open.complete(null);
        activated.complete(null);
        changed();
        if (old != null) {
            retire(old, 10_000);
        }
        return true;
    }

    /** Swap statistics, for inspect and the shell. */
    synchronized SwapStats swapStats() {
        return new SwapStats(swaps, lastPauseNanos, maxPauseNanos,
                pausedAtNanos == 0 ? lastHeld : held.get(), pausedAtNanos != 0, elements);
    }

    /**
     * A disk's swaps.
     *
     * @param swaps chains replaced under the running disk
     * @param lastPauseNanos how long the last completed swap held requests back
     * @param maxPauseNanos the longest such pause
     * @param requestsHeld requests that waited in the current pause, or in the last one
     * @param paused whether a pause is open now
     * @param elements the active chain's elements and their bundles
     */
    record SwapStats(long swaps, long lastPauseNanos, long maxPauseNanos, long requestsHeld, boolean paused,
            List<ChainElement> elements) {
    }

    /** Records that the rebuild of {@code generation} is waiting for a resolver of {@code kind}. */
    void waiting(long generation, String kind, String why) {
        synchronized (this) {
            if (generation != this.generation || state == State.CLOSED) {
                return;
            }
            state = State.WAITING;
            reason = why;
            waitingFor = kind;
        }
        changed();
    }

    /** Whether the disk waits for a resolver of one of {@code kinds} (layer kinds as {@code layer:KIND}). */
    synchronized boolean waitsForAny(java.util.Set<String> kinds) {
        return state == State.WAITING && waitingFor != null
                && (kinds.contains(waitingFor) || kinds.contains("layer:" + waitingFor));
    }

    /** Fails the disk: waiting and future requests fail with an I/O error that says why. */
    void fail(long generation, String why) {
        CompletableFuture<Void> failed;
        synchronized (this) {
            if (generation != this.generation || state == State.CLOSED) {
                return;
            }
            state = State.FAILED;
            reason = why;
            failed = gate;
        }
        changed();
        failed.completeExceptionally(new DiskException(new DiskError.Io(new IOException(
                "disk '" + name + "' has no backend: " + why))));
    }

    /**
     * Fails the requests that have waited longer than allowed for a resolver, and fails new ones at once from now
     * on. The disk stays {@link State#WAITING}: it is still built as soon as a resolver for its kind arrives.
     */
    void expireWaiting(long generation, String why) {
        failWaiting(generation, why);
    }

    /**
     * Fails the requests waiting now, because the backend they wait for will not come (an update failed and could
     * not be rolled back). The disk stays {@link State#WAITING} and comes up if a resolver arrives later.
     */
    void failWaiting(String why) {
        failWaiting(ANY_GENERATION, why);
    }

    /** Fails the waiting requests if the disk waits (in rebuild {@code generation}, unless any will do). */
    private void failWaiting(long generation, String why) {
        CompletableFuture<Void> failed;
        synchronized (this) {
            if ((generation != ANY_GENERATION && generation != this.generation) || state != State.WAITING) {
                return;
            }
            reason = why + "; requests fail until it comes";
            failed = gate;
        }
        changed();
        failed.completeExceptionally(new DiskException(new DiskError.Io(new IOException(
                "disk '" + name + "' has no backend: " + why))));
    }

    /** Removes the disk: closes its chain after draining; requests fail from now on. */
    void shutdown() {
        ActiveChain old;
        CompletableFuture<Void> closed;
        synchronized (this) {
            old = active;
            active = null;
            state = State.CLOSED;
            reason = "removed from the configuration";
            if (gate.isDone()) {
                gate = new CompletableFuture<>();
            }
            closed = gate;
            generation++;
        }
        changed();
        closed.completeExceptionally(new DiskException(new DiskError.Io(new IOException(
                "disk '" + name + "' was removed"))));
        if (old != null) {
            retire(old, 10_000);
        }
    }

    /** Drains the old chain, collects what its elements hand over, and closes it. */
    private Handover retire(ActiveChain old, long drainMillis) {
        try {
            old.drain().get(drainMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warning(() -> "disk '" + name + "': " + old.inFlight() + " requests still in flight after "
                    + drainMillis + " ms; closing the old chain anyway");
        } catch (Exception e) {
            LOG.warning(() -> "disk '" + name + "': draining failed: " + e);
        }
        Handover state = old.chain.handOver();
        old.chain.close();
        return state;
    }

    /** The disk serving now, or null. */
    Disk currentDisk() {
        ActiveChain a = active;
        return a == null ? null : a.disk();
    }

    // ---- the stable DiskIo ----

    /** Runs {@code request} on the active chain, or once one is active. */
    private <T> CompletableFuture<T> submit(Function<Disk, CompletableFuture<T>> request) {
        CompletableFuture<T> result = runOn(active, request);
        if (result != null) {
            return result;
        }
        held.incrementAndGet();
        return waitAndSubmit(request);
    }

    /** Runs {@code request} on {@code chain} if it still admits requests; null if not. */
    private static <T> CompletableFuture<T> runOn(ActiveChain chain, Function<Disk, CompletableFuture<T>> request) {
        if (chain == null || !chain.enter()) {
            return null;
        }
        CompletableFuture<T> result = request.apply(chain.disk());
        result.whenComplete((value, failure) -> chain.exit());
        return result;
    }

    private <T> CompletableFuture<T> waitAndSubmit(Function<Disk, CompletableFuture<T>> request) {
        CompletableFuture<Void> wait;
        synchronized (this) {
            // A chain that is active here admits requests: pause and activate swap it out under this lock first.
            wait = active != null ? CompletableFuture.completedFuture(null) : gate;
        }
        return wait.thenCompose(v -> {
            CompletableFuture<T> result = runOn(active, request);
            return result != null ? result : waitAndSubmit(request);
        });
    }

    private Disk metadata() {
        Disk d = currentDisk();
        if (d == null) {
            d = lastDisk;
        }
        if (d == null) {
            throw new IllegalStateException("disk '" + name + "' has not been resolved yet");
        }
        return d;
    }

    /** The chain's kinds, so that what clients see (an NBD export's description) says what serves the disk. */
    @Override
    public String diskType() {
        return chainDescription();
    }

    @Override
    public long sectorCount() {
        return metadata().sectorCount();
    }

    @Override
    public int sectorSize() {
        return metadata().sectorSize();
    }

    @Override
    public Optional<DiskId> diskId() {
        return metadata().diskId();
    }

    @Override
    public int physicalSectorSize() {
        return metadata().physicalSectorSize();
    }

    @Override
    public boolean isFuaRespected() {
        return metadata().isFuaRespected();
    }

    @Override
    public boolean isReadOnly() {
        return metadata().isReadOnly();
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return metadata().unmapBehavior();
    }

    @Override
    public int optimalUnmapSectors() {
        return metadata().optimalUnmapSectors();
    }

    @Override
    public Optional<PersistentReservation> pr() {
        return metadata().pr();
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return submit(d -> d.readVectored(buffers, sector));
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return submit(d -> d.writeVectored(buffers, sector, fua));
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return submit(Disk::syncCache);
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        return submit(d -> d.unmap(sector, count, blockLevelOnly));
    }

    @Override
    public CompletableFuture<Void> eject() {
        return submit(Disk::eject);
    }

    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        return submit(d -> d.allocation(sector, count));
    }

    /**
     * Completes when the size changes: on the serving chain, or by a rebuild that changed it. A waiter on a chain
     * that is replaced moves to the new chain.
     */
    @Override
    public CompletableFuture<Long> waitResize(long knownCount) {
        Disk d = currentDisk();
        if (d != null && d.sectorCount() != knownCount) {
            return CompletableFuture.completedFuture(d.sectorCount());
        }
        CompletableFuture<Void> nextChain;
        synchronized (this) {
            nextChain = nextActivation;
        }
        CompletableFuture<?> resized = d == null ? new CompletableFuture<>() : d.waitResize(knownCount);
        return CompletableFuture.anyOf(resized, nextChain).thenCompose(v -> waitResize(knownCount));
    }

    /** Nothing: the host owns the disk's life ({@link #shutdown}), and a frontend closing its handle must not end it. */
    @Override
    public void close() {
    }

    @Override
    public void inspect(Inspector out) {
        ActiveChain a = active;
        synchronized (this) {
            out.value("name", name)
                    .value("state", state)
                    .value("reason", reason.isEmpty() ? null : reason)
                    .value("chain", chainDescription())
                    .value("chain_builds", chainBuilds)
                    .value("swaps", swaps)
                    .value("last_pause", lastPauseMillis == 0 ? null : java.time.Instant.ofEpochMilli(lastPauseMillis))
                    .value("last_pause_ms", swaps == 0 ? null : millis(lastPauseNanos))
                    .value("max_pause_ms", swaps == 0 ? null : millis(maxPauseNanos))
                    .value("requests_held", pausedAtNanos == 0 ? lastHeld : held.get())
                    .value("requests_in_flight", a == null ? 0 : a.inFlight());
            for (ChainElement e : elements) {
                out.value("element " + e.place(), e.describe());
            }
        }
        if (a != null) {
            out.child("backend", a.disk());
        }
    }

    static String millis(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e6);
    }
}
