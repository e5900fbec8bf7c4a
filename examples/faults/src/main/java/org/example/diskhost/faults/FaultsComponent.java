package org.example.diskhost.faults;

import java.util.Dictionary;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.change.RuntimeChange;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.osgi.service.cm.ConfigurationException;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Component;

/**
 * The bundle's service: the resolver of kind {@code faults}, and the receiver of runtime changes as factory
 * configurations of {@value #FACTORY_PID} (property {@code diskhost.name} and any of the rule's settings; see
 * {@link FaultChange#parse}). A change applies in place to the live faults disks of the named disk, so the host never
 * rebuilds the disk for it. Deleting the change returns the disk to its spec.
 */
@Component(service = {DiskResolver.class, ManagedServiceFactory.class}, property = {
        DiskResolver.KIND_PROPERTY + "=" + FaultsDiskResolver.KIND,
        "service.pid=" + FaultsComponent.FACTORY_PID})
public final class FaultsComponent implements DiskResolver, ManagedServiceFactory {
    private static final Logger LOG = Logger.getLogger(FaultsComponent.class.getName());

    /** The factory PID of runtime changes. */
    public static final String FACTORY_PID = "org.example.diskhost.faults";

    private final LiveFaults live;
    private final FaultsDiskResolver resolver;

    public FaultsComponent() {
        this(new LiveFaults());
    }

    FaultsComponent(LiveFaults live) {
        this.live = live;
        this.resolver = new FaultsDiskResolver(live);
    }

    @Override
    public String kind() {
        return FaultsDiskResolver.KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        return resolver.resolve(spec, context);
    }

    @Override
    public String getName() {
        return "diskhost faults changes";
    }

    @Override
    public void updated(String pid, Dictionary<String, ?> properties) throws ConfigurationException {
        FaultChange change;
        try {
            change = FaultChange.parse(pid, RuntimeChange.properties(properties));
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "configuration " + pid + ": " + e.getMessage());
            throw new ConfigurationException(null, e.getMessage(), e);
        }
        live.update(change);
        LOG.info(() -> "disk '" + change.diskName() + "': faults now " + live.disks(change.diskName()).stream()
                .findFirst().map(d -> d.rule().toString()).orElse("changed by " + change.values()
                        + " (when the disk opens)"));
    }

    @Override
    public void deleted(String pid) {
        live.delete(pid);
        LOG.info(() -> "configuration " + pid + " deleted: its disk returns to the faults of its spec");
    }
}
