package org.diskhost.backend.delay;

import java.util.Dictionary;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.diskhost.api.Disk;
import org.diskhost.api.change.RuntimeChange;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.osgi.service.cm.ConfigurationException;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Component;

/**
 * The delay bundle's service: the resolver of kind {@code delay}, and the receiver of runtime delay changes as
 * factory configurations of {@value #FACTORY_PID} (properties {@code diskhost.name}, {@code readDelay},
 * {@code writeDelay}; see {@link DelayChange#parse}). A change applies in place to the live delay disks of the named
 * disk, so the host never rebuilds the disk for it: the disk's own configuration ({@code org.diskhost.disk}) is
 * untouched. Deleting the change returns the disk to the delays in its spec.
 */
@Component(service = {DiskResolver.class, ManagedServiceFactory.class}, property = {
        DiskResolver.KIND_PROPERTY + "=" + DelayDiskResolver.KIND,
        "service.pid=" + DelayComponent.FACTORY_PID})
public final class DelayComponent implements DiskResolver, ManagedServiceFactory {
    private static final Logger LOG = Logger.getLogger(DelayComponent.class.getName());

    /** The factory PID of runtime delay changes. */
    public static final String FACTORY_PID = "org.diskhost.delay";

    private final LiveDelays live;
    private final DelayDiskResolver resolver;

    public DelayComponent() {
        this(new LiveDelays(), DelayTimer.SYSTEM);
    }

    DelayComponent(LiveDelays live, DelayTimer timer) {
        this.live = live;
        this.resolver = new DelayDiskResolver(live, timer);
    }

    @Override
    public String kind() {
        return DelayDiskResolver.KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        return resolver.resolve(spec, context);
    }

    @Override
    public String getName() {
        return "diskhost delay changes";
    }

    @Override
    public void updated(String pid, Dictionary<String, ?> properties) throws ConfigurationException {
        DelayChange change;
        try {
            change = DelayChange.parse(pid, RuntimeChange.properties(properties));
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "configuration " + pid + ": " + e.getMessage());
            throw new ConfigurationException(null, e.getMessage(), e);
        }
        live.update(change);
        LOG.info(() -> "disk '" + change.diskName() + "': delays now " + describe(change));
    }

    @Override
    public void deleted(String pid) {
        live.delete(pid);
        LOG.info(() -> "configuration " + pid + " deleted: its disk returns to the delays of its spec");
    }

    private String describe(DelayChange change) {
        return live.disks(change.diskName()).stream().findFirst().map(d -> d.delays().toString())
                .orElseGet(() -> Stream.of(change.read().map(r -> "read " + Delays.show(r)),
                        change.write().map(w -> "write " + Delays.show(w))).flatMap(Optional::stream)
                        .collect(Collectors.joining(", ", "", " (when the disk opens)")));
    }
}
