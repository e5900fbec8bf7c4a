package org.diskhost.host.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.status.DiskStatus;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The host core: owns the named disks. Disk definitions arrive as factory configurations of
 * {@value #FACTORY_PID} (see {@link JsonConfigSource} for the default source); each is resolved through the
 * registered {@link DiskResolver} services (and {@link LayerResolver} services for the layers of layered disks) and
 * published as a {@link Disk} service with the property
 * {@value #NAME}. When a resolver that a chain uses goes away, the disks it serves are paused (requests wait),
 * drained, their elements' state collected, and closed; they are rebuilt with that state as soon as a resolver for
 * the kind is back. {@link BackendBundles} watches updated backend bundles and rolls back a version that does not
 * come up.
 */
@Component(service = {ManagedServiceFactory.class, DiskHost.class},
        property = Constants.SERVICE_PID + "=" + DiskHost.FACTORY_PID, immediate = true)
public final class DiskHost implements ManagedServiceFactory {
    private static final Logger LOG = Logger.getLogger(DiskHost.class.getName());

    /** The factory PID of disk configurations. */
    public static final String FACTORY_PID = "org.diskhost.disk";
    /** Configuration and service property: the disk's name. */
    public static final String NAME = "diskhost.name";
    /** Configuration property: the disk's spec as JSON ({@code {"kind": ..., settings...}}). */
    public static final String SPEC = "diskhost.spec";
    /** Configuration property: open the whole chain read-only. */
    public static final String READ_ONLY = "diskhost.readOnly";
    /** Framework property: the directory relative paths in disk settings are relative to. */
    public static final String DATA_DIRECTORY = "diskhost.data";
    /** Framework property: how long requests wait for a missing resolver, such as {@code 30s}. */
    public static final String WAIT_TIMEOUT = "diskhost.waitTimeout";
    /** Framework property: how long an updated backend bundle has to bring its resolvers back, such as {@code 10s}. */
    public static final String SWAP_TIMEOUT = "diskhost.swapTimeout";

    private static final long DRAIN_MILLIS = 10_000;

    private final ResolverRegistry<DiskResolver> resolvers = new ResolverRegistry<>(DiskResolver::kind);
    private final ResolverRegistry<LayerResolver> layerResolvers = new ResolverRegistry<>(LayerResolver::kind);
    /** Disks by configuration PID. Guarded by this. */
    private final Map<String, HostedDisk> disks = new LinkedHashMap<>();
    /** Configurations that could not be read, by PID: the message. Guarded by this. */
    private final Map<String, String> badConfigurations = new LinkedHashMap<>();
    /** The bundle and kind of each resolver service, disk or layer. Guarded by itself. */
    private final Map<Object, Provider> providers = new IdentityHashMap<>();
    /** Published disks by name. Guarded by this. */
    private final Map<String, Published> published = new HashMap<>();
    /** The status service of every configured disk (bad configurations included, as failed), by PID. Guarded by this. */
    private final Map<String, PublishedStatus> statuses = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "diskhost-host-timer");
        t.setDaemon(true);
        return t;
    });
    private volatile BundleContext context;
    private volatile Path dataDirectory = Path.of("").toAbsolutePath();
    private volatile Duration waitTimeout = Duration.ofSeconds(30);
    private volatile BackendBundles backendBundles;

    private record Published(Disk disk, ServiceRegistration<Disk> registration) {
    }

    /** Where a resolver service comes from; {@code kind} is {@code layer:KIND} for a layer resolver. */
    private record Provider(Bundle bundle, String kind) {
    }

    @Activate
    void activate(BundleContext context) {
        this.context = context;
        String data = context.getProperty(DATA_DIRECTORY);
        if (data != null) {
            dataDirectory = Path.of(data).toAbsolutePath();
        }
        waitTimeout = durationProperty(context, WAIT_TIMEOUT, waitTimeout);
        BackendBundles bundles = new BackendBundles(context, durationProperty(context, SWAP_TIMEOUT,
                Duration.ofSeconds(10)), timer, this::giveUp);
        bundles.open();
        backendBundles = bundles;
        synchronized (providers) { // the resolvers bound before activation
            providers.values().forEach(p -> bundles.arrived(p.bundle(), p.kind()));
        }
        disks().forEach(this::publishStatus); // configurations that arrived before activation
    }

    private static Duration durationProperty(BundleContext context, String name, Duration fallback) {
        String value = context.getProperty(name);
        return value == null ? fallback
                : org.diskhost.api.resolve.Settings.of("host", "host", Map.of(name, value), null).duration(name,
                        fallback);
    }

    @Deactivate
    void deactivate() {
        List<HostedDisk> all;
        synchronized (this) {
            all = new ArrayList<>(disks.values());
            disks.clear();
            published.values().forEach(p -> unregister(p.registration()));
            published.clear();
            statuses.values().forEach(PublishedStatus::unregister);
            statuses.clear();
        }
        all.forEach(HostedDisk::shutdown);
        BackendBundles bundles = backendBundles;
        if (bundles != null) {
            bundles.close();
        }
        timer.shutdownNow();
    }

    // ---- resolvers ----

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeResolver")
    void addResolver(DiskResolver resolver, ServiceReference<DiskResolver> reference,
            Map<String, Object> properties) {
        String kind = resolvers.add(resolver, properties);
        added("resolver for kind '" + kind + "'", arrived(resolver, reference, kind));
    }

    /**
     * Called while the resolver's bundle is stopping, before its classes go away: the disks it serves are paused
     * and drained here, then rebuilt on another resolver of the kind if there is one, or when one comes back.
     */
    void removeResolver(DiskResolver resolver, Map<String, Object> properties) {
        String kind = resolvers.remove(resolver, properties);
        departed(resolver, kind);
        removed("resolver for kind '" + kind + "'", disk -> disk.uses(resolver));
    }

    /** Layer resolvers, for layered disks: disks that wait for a layer kind are built once it arrives. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeLayerResolver")
    void addLayerResolver(LayerResolver resolver, ServiceReference<LayerResolver> reference,
            Map<String, Object> properties) {
        String kind = layerResolvers.add(resolver, properties);
        added("resolver for layer kind '" + kind + "'", arrived(resolver, reference, "layer:" + kind));
    }

    /** As {@link #removeResolver}, for the disks with a layer the resolver built. */
    void removeLayerResolver(LayerResolver resolver, Map<String, Object> properties) {
        String kind = layerResolvers.remove(resolver, properties);
        departed(resolver, "layer:" + kind);
        removed("resolver for layer kind '" + kind + "'", disk -> disk.uses(resolver));
    }

    /** Records the resolver's bundle; false while that bundle's update has not brought all its kinds back. */
    private boolean arrived(Object resolver, ServiceReference<?> reference, String kind) {
        Bundle bundle = reference.getBundle();
        BackendBundles bundles;
        synchronized (providers) {
            providers.put(resolver, new Provider(bundle, kind));
            bundles = backendBundles;
        }
        return bundles == null || bundles.arrived(bundle, kind);
    }

    private void departed(Object resolver, String kind) {
        Provider provider;
        synchronized (providers) {
            provider = providers.remove(resolver);
        }
        BackendBundles bundles = backendBundles;
        if (bundles != null && provider != null) {
            bundles.departed(provider.bundle(), kind);
        }
    }

    private Bundle bundleOf(Object resolver) {
        synchronized (providers) {
            Provider provider = providers.get(resolver);
            return provider == null ? null : provider.bundle();
        }
    }

    /** An update failed for good: the requests waiting for its kinds fail with {@code reason}. */
    private void giveUp(java.util.Set<String> kinds, String reason) {
        for (HostedDisk disk : disks()) {
            if (disk.waitsForAny(kinds)) {
                disk.failWaiting(reason);
            }
        }
    }

    /** Rebuilds the waiting disks, unless {@code rebuild} is false: the resolver's bundle has more kinds to bring. */
    private void added(String what, boolean rebuild) {
        LOG.fine(() -> what + " is available");
        if (!rebuild) {
            return;
        }
        for (HostedDisk disk : disks()) {
            if (disk.state() == HostedDisk.State.WAITING) {
                rebuild(disk);
            }
        }
    }

    private void removed(String what, java.util.function.Predicate<HostedDisk> served) {
        BundleContext bundleContext = context;
        boolean shuttingDown = bundleContext == null || bundleContext.getBundle(0).getState() == Bundle.STOPPING;
        if (!shuttingDown) {
            LOG.info(() -> what + " went away");
        }
        for (HostedDisk disk : disks()) {
            if (served.test(disk)) {
                disk.pause("the " + what + " went away", DRAIN_MILLIS);
                if (!shuttingDown) {
                    rebuild(disk);
                }
            }
        }
    }

    /** The kinds that have a resolver now. */
    List<String> kinds() {
        return resolvers.kinds();
    }

    /** The layer kinds that have a resolver now. */
    List<String> layerKinds() {
        return layerResolvers.kinds();
    }

    // ---- configuration ----

    @Override
    public String getName() {
        return "diskhost disks";
    }

    @Override
    public void updated(String pid, Dictionary<String, ?> properties) {
        String name;
        DiskSpec spec;
        boolean readOnly;
        try {
            name = nameOf(pid, properties);
            spec = specOf(name, properties);
            readOnly = Boolean.parseBoolean(String.valueOf(properties.get(READ_ONLY)));
        } catch (RuntimeException e) {
            String message = "configuration " + pid + ": " + e.getMessage();
            LOG.warning(message);
            synchronized (this) {
                badConfigurations.put(pid, message);
            }
            deleted(pid, false);
            publishFailedStatus(pid, properties, message);
            return;
        }
        HostedDisk disk;
        boolean changed;
        synchronized (this) {
            badConfigurations.remove(pid);
            for (HostedDisk other : disks.values()) {
                if (other.name.equals(name) && !other.pid.equals(pid)) {
                    String message = "configuration " + pid + ": disk '" + name + "' is already defined by "
                            + other.pid;
                    LOG.warning(message);
                    badConfigurations.put(pid, message);
                    return;
                }
            }
            disk = disks.get(pid);
            if (disk != null && !disk.name.equals(name)) {
                deleted(pid, false); // renamed: a new disk
                disk = null;
            }
            if (disk == null) {
                disk = new HostedDisk(name, pid, spec, readOnly);
                disks.put(pid, disk);
                changed = true;
                PublishedStatus failed = statuses.remove(pid); // the failed status of a bad configuration
                if (failed != null) {
                    failed.unregister();
                }
            } else {
                changed = !disk.spec().equals(spec) || disk.readOnly() != readOnly;
                disk.reconfigure(spec, readOnly);
            }
        }
        publishStatus(disk);
        if (changed) {
            rebuild(disk);
        }
    }

    /** Registers the status service of a configured disk, unless it has one. */
    private void publishStatus(HostedDisk disk) {
        BundleContext bundleContext = context;
        if (bundleContext == null) {
            return; // activate publishes it
        }
        synchronized (this) {
            if (disks.get(disk.pid) != disk || statuses.containsKey(disk.pid)) {
                return;
            }
            // Under the lock, so that a concurrent deletion cannot leave a status behind; the frontends that
            // receive the service event never call back into the host.
            statuses.put(disk.pid, PublishedStatus.follow(bundleContext, disk));
        }
    }

    /** A configuration that names a disk but cannot be read: the disk is configured, and failed. */
    private void publishFailedStatus(String pid, Dictionary<String, ?> properties, String message) {
        BundleContext bundleContext = context;
        String name;
        try {
            name = nameOf(pid, properties);
        } catch (RuntimeException e) {
            return; // no name that a frontend or a supervisor could ask for
        }
        if (bundleContext == null) {
            return;
        }
        synchronized (this) {
            if (disks.values().stream().anyMatch(d -> d.name.equals(name))) {
                return; // the name belongs to another configuration's disk
            }
            PublishedStatus old = statuses.remove(pid);
            if (old != null) {
                old.unregister();
            }
            statuses.put(pid, PublishedStatus.register(bundleContext, name, DiskStatus.State.FAILED, message));
        }
    }

    @Override
    public void deleted(String pid) {
        deleted(pid, true);
    }

    private void deleted(String pid, boolean forgetErrors) {
        HostedDisk disk;
        Published gone;
        synchronized (this) {
            if (forgetErrors) {
                badConfigurations.remove(pid);
            }
            disk = disks.remove(pid);
            gone = disk == null ? null : published.remove(disk.name);
            PublishedStatus status = statuses.remove(pid);
            if (status != null) {
                status.unregister();
            }
        }
        if (gone != null) {
            unregister(gone.registration());
        }
        if (disk != null) {
            disk.shutdown();
            LOG.info(() -> "disk '" + disk.name + "' removed");
        }
    }

    private static String nameOf(String pid, Dictionary<String, ?> properties) {
        Object name = properties.get(NAME);
        if (name == null) {
            int tilde = pid.indexOf('~'); // a named factory configuration: org.diskhost.disk~NAME
            if (tilde < 0) {
                throw new IllegalArgumentException("missing property " + NAME);
            }
            name = pid.substring(tilde + 1);
        }
        String s = name.toString();
        if (!s.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("bad disk name '" + s + "': use letters, digits, '.', '_' and '-'");
        }
        return s;
    }

    /** The spec: JSON in {@value #SPEC}, or else the configuration's own properties ({@code kind} and settings). */
    private DiskSpec specOf(String name, Dictionary<String, ?> properties) {
        Map<String, Object> config;
        Object json = properties.get(SPEC);
        if (json != null) {
            try {
                config = Json.parseObject(json.toString());
            } catch (Json.ParseException e) {
                throw new IllegalArgumentException("disk '" + name + "': " + SPEC + " is not valid JSON: "
                        + e.getMessage());
            }
        } else {
            config = new LinkedHashMap<>();
            for (Enumeration<String> keys = properties.keys(); keys.hasMoreElements();) {
                String key = keys.nextElement();
                if (!key.startsWith("service.") && !key.startsWith("diskhost.") && !key.startsWith("felix.")
                        && !key.startsWith("component.")) {
                    Object value = properties.get(key);
                    config.put(key, value.getClass().isArray() ? arrayToList(value) : value);
                }
            }
        }
        try {
            return DiskSpec.parse(name, config, dataDirectory);
        } catch (ResolveException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    private static List<Object> arrayToList(Object array) {
        List<Object> list = new ArrayList<>();
        for (int i = 0; i < java.lang.reflect.Array.getLength(array); i++) {
            list.add(java.lang.reflect.Array.get(array, i));
        }
        return list;
    }

    // ---- building chains ----

    /** Builds the disk's chain from its current spec (closing the old chain first, if any). */
    private void rebuild(HostedDisk disk) {
        if (disk.currentDisk() != null) {
            disk.pause("rebuilding", DRAIN_MILLIS);
        }
        long generation = disk.beginRebuild();
        DiskSpec spec = disk.spec();
        ResolvedChain.resolve(disk.name, spec, disk.readOnly(), resolvers::get, layerResolvers::get,
                disk.handover())
                .whenComplete((chain, failure) -> {
                    if (failure == null) {
                        long swapsBefore = disk.swapStats().swaps();
                        if (disk.activate(generation, chain, elementsOf(chain))) {
                            HostedDisk.SwapStats stats = disk.swapStats();
                            LOG.info(() -> "disk '" + disk.name + "' is ready: " + disk.chainDescription() + ", "
                                    + chain.disk().sectorCount() + " sectors of " + chain.disk().sectorSize()
                                    + " bytes" + (stats.swaps() == swapsBefore ? "" : "; swap " + stats.swaps()
                                    + " paused it " + HostedDisk.millis(stats.lastPauseNanos()) + " ms, "
                                    + stats.requestsHeld() + " requests held"));
                            publish(disk, chain.disk());
                        }
                        return;
                    }
                    ResolveException error = ResolveException.of(failure, disk.name, spec.kind());
                    if (error.error() instanceof ResolveError.NoResolver missing) {
                        disk.waiting(generation, missing.kind(), error.getMessage());
                        LOG.info(() -> error.getMessage() + "; disk '" + disk.name + "' waits for it");
                        timer.schedule(() -> disk.expireWaiting(generation, error.getMessage() + " (waited "
                                + waitTimeout.toMillis() + " ms)"), waitTimeout.toMillis(), TimeUnit.MILLISECONDS);
                    } else if (newVersionFailed(error.error())) {
                        // The requests keep waiting: the rolled-back version brings the kind back.
                        disk.waiting(generation, error.error().kind(), error.getMessage());
                        LOG.warning(() -> error.getMessage() + "; disk '" + disk.name + "' waits for the rollback");
                    } else {
                        disk.fail(generation, error.getMessage());
                        LOG.warning(error.getMessage());
                    }
                });
    }

    /** Tells the bundle watch that the resolver of the failed kind refused the chain; true if it was just updated. */
    private boolean newVersionFailed(ResolveError error) {
        String kind = error.kind();
        Object resolver = resolvers.get(kind);
        if (resolver == null) {
            resolver = layerResolvers.get(kind);
        }
        BackendBundles bundles = backendBundles;
        return resolver != null && bundles != null
                && bundles.chainFailed(bundleOf(resolver), kind, error.message());
    }

    /** The chain's elements with the bundles that built them. */
    private List<ChainElement> elementsOf(ResolvedChain chain) {
        BackendBundles bundles = backendBundles;
        List<ChainElement> elements = new ArrayList<>();
        for (ResolvedChain.Element e : chain.elements()) {
            Bundle b = bundleOf(e.resolver());
            elements.add(b == null ? new ChainElement(e.place(), e.kind(), "-", "-", -1, 0)
                    : new ChainElement(e.place(), e.kind(), b.getSymbolicName(), b.getVersion().toString(),
                            b.getBundleId(), bundles == null ? 0 : bundles.revision(b)));
        }
        return elements;
    }

    /** Whoever updated {@code bundle} saw it fail to start: the watch need not wait for its timeout. */
    void updateFailed(Bundle bundle, String why) {
        BackendBundles bundles = backendBundles;
        if (bundles != null) {
            bundles.fail(bundle, why);
        }
    }

    /** Whether an update of {@code bundle} is still being watched (or rolled back). */
    boolean watching(Bundle bundle) {
        BackendBundles bundles = backendBundles;
        return bundles != null && bundles.watching(bundle);
    }

    /** What happened to backend bundles lately: updates, rollbacks, failures. */
    List<BackendBundles.Event> bundleHistory() {
        BackendBundles bundles = backendBundles;
        return bundles == null ? List.of() : bundles.history();
    }

    /** Publishes the disk as a service, or republishes it if its fixed metadata changed. */
    private void publish(HostedDisk disk, Disk chainDisk) {
        BundleContext bundleContext = context;
        Published old;
        synchronized (this) {
            if (bundleContext == null || disks.get(disk.pid) != disk) {
                return;
            }
            old = published.get(disk.name);
            if (old != null && sameMetadata(old.disk(), chainDisk)) {
                return;
            }
        }
        if (old != null) {
            unregister(old.registration());
        }
        Disk stable = Disk.of(disk);
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(NAME, disk.name);
        properties.put(DiskResolver.KIND_PROPERTY, disk.spec().kind());
        ServiceRegistration<Disk> registration = bundleContext.registerService(Disk.class, stable, properties);
        synchronized (this) {
            published.put(disk.name, new Published(stable, registration));
        }
    }

    private static boolean sameMetadata(Disk a, Disk b) {
        return a.sectorSize() == b.sectorSize() && a.physicalSectorSize() == b.physicalSectorSize()
                && a.isReadOnly() == b.isReadOnly() && a.isFuaRespected() == b.isFuaRespected()
                && a.unmapBehavior() == b.unmapBehavior() && a.optimalUnmapSectors() == b.optimalUnmapSectors()
                && Objects.equals(a.diskId(), b.diskId());
    }

    private static void unregister(ServiceRegistration<?> registration) {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already unregistered (the bundle is stopping)
        }
    }

    // ---- queries for the shell ----

    synchronized List<HostedDisk> disks() {
        return new ArrayList<>(disks.values());
    }

    synchronized Map<String, String> badConfigurations() {
        return new LinkedHashMap<>(badConfigurations);
    }

    synchronized Optional<HostedDisk> disk(String name) {
        return disks.values().stream().filter(d -> d.name.equals(name)).findFirst();
    }

    /** The published disk of that name, as frontends see it. */
    synchronized Optional<Disk> publishedDisk(String name) {
        return Optional.ofNullable(published.get(name)).map(Published::disk);
    }
}
