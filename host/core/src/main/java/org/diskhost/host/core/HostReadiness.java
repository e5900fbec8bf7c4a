package org.diskhost.host.core;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

import org.diskhost.api.status.DiskStatus;
import org.diskhost.api.status.FrontendStatus;
import org.diskhost.api.status.HostStatus;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The host's {@link HostStatus}: ready once the configuration file was read, every disk it configures has a
 * {@link DiskStatus} that is ready or failed, and every frontend it configures (a section whose PID a bundle declares
 * in the {@link FrontendStatus#NAMESPACE} capability) has a {@link FrontendStatus}. Without a file, the disks and
 * frontends that have statuses are what is configured.
 */
@Component(immediate = true, service = {})
public final class HostReadiness implements HostStatus {
    private static final Logger LOG = Logger.getLogger("diskhost");

    private record Disk(DiskStatus.State state, String reason) {
    }

    private record Frontend(String state, List<String> endpoints, String reason) {
    }

    private volatile BundleContext context;
    @Reference
    private JsonConfigSource source;
    private final Map<String, Disk> disks = new TreeMap<>(); // guarded by this
    private final Map<String, Frontend> frontends = new TreeMap<>(); // guarded by this
    private ServiceRegistration<HostStatus> registration; // guarded by this
    private boolean ready; // guarded by this
    private String summary = "starting: waiting for the configuration file"; // guarded by this

    @Activate
    void activate(BundleContext bundleContext) {
        context = bundleContext;
        synchronized (this) {
            registration = context.registerService(HostStatus.class, this, properties());
        }
        source.onRead(this::update);
        update();
    }

    @Deactivate
    synchronized void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // the bundle is stopping
        }
        registration = null;
    }

    @Reference(service = DiskStatus.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addDisk(Map<String, Object> properties) {
        synchronized (this) {
            try {
                disks.put(String.valueOf(properties.get(DiskStatus.NAME)), new Disk(
                        DiskStatus.State.valueOf(String.valueOf(properties.get(DiskStatus.STATE))),
                        String.valueOf(properties.getOrDefault(DiskStatus.REASON, ""))));
            } catch (IllegalArgumentException e) {
                return;
            }
        }
        update();
    }

    void updatedDisk(Map<String, Object> properties) {
        addDisk(properties);
    }

    void removeDisk(Map<String, Object> properties) {
        synchronized (this) {
            disks.remove(String.valueOf(properties.get(DiskStatus.NAME)));
        }
        update();
    }

    @Reference(service = FrontendStatus.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addFrontend(Map<String, Object> properties) {
        Object endpoints = properties.get(FrontendStatus.ENDPOINTS);
        synchronized (this) {
            frontends.put(String.valueOf(properties.get(FrontendStatus.PID)), new Frontend(
                    String.valueOf(properties.get(FrontendStatus.STATE)),
                    endpoints instanceof String[] a ? List.of(a) : List.of(),
                    String.valueOf(properties.getOrDefault(FrontendStatus.REASON, ""))));
        }
        update();
    }

    void updatedFrontend(Map<String, Object> properties) {
        addFrontend(properties);
    }

    void removeFrontend(Map<String, Object> properties) {
        synchronized (this) {
            frontends.remove(String.valueOf(properties.get(FrontendStatus.PID)));
        }
        update();
    }

    /** Recomputes readiness and the summary, and publishes them if they changed. */
    private synchronized void update() {
        if (registration == null) {
            return;
        }
        var configured = source.configured();
        boolean read = configured.isPresent() || !source.hasFile();
        Set<String> diskNames = new LinkedHashSet<>(configured.map(JsonConfigSource.Configured::disks).orElse(Set.of()));
        Set<String> frontendPids = new LinkedHashSet<>();
        Set<String> declared = declaredFrontends();
        configured.ifPresent(c -> c.components().stream().filter(declared::contains).forEach(frontendPids::add));
        if (!source.hasFile()) {
            diskNames.addAll(disks.keySet());
            frontendPids.addAll(frontends.keySet());
        }
        List<String> waiting = new ArrayList<>();
        List<String> readyDisks = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(diskNames)) {
            Disk disk = disks.get(name);
            if (disk == null) {
                waiting.add("disk '" + name + "' (not configured yet)");
            } else if (disk.state() == DiskStatus.State.READY) {
                readyDisks.add(name);
            } else if (disk.state() == DiskStatus.State.FAILED) {
                failed.add(disk.reason());
            } else {
                waiting.add("disk '" + name + "' (" + disk.state().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
        }
        List<String> serving = new ArrayList<>();
        for (String pid : new java.util.TreeSet<>(frontendPids)) {
            Frontend frontend = frontends.get(pid);
            String name = pid.startsWith(JsonConfigSource.COMPONENT_PID_PREFIX)
                    ? pid.substring(JsonConfigSource.COMPONENT_PID_PREFIX.length()) : pid;
            if (frontend == null) {
                waiting.add(name);
            } else if (FrontendStatus.State.LISTENING.name().equals(frontend.state())) {
                serving.add(name + " on " + String.join(" and ", frontend.endpoints()));
            } else {
                failed.add(name + ": " + frontend.reason());
            }
        }
        String problem = configured.map(JsonConfigSource.Configured::problem).orElse("");
        boolean nowReady = read && waiting.isEmpty();
        List<String> parts = new ArrayList<>();
        parts.add(readyDisks.size() + (readyDisks.size() == 1 ? " disk" : " disks") + " ready"
                + (readyDisks.isEmpty() ? "" : " (" + String.join(", ", readyDisks) + ")"));
        if (!serving.isEmpty()) {
            parts.add(String.join(", ", serving));
        }
        if (!failed.isEmpty()) {
            parts.add(failed.size() + " failed: " + String.join("; ", failed));
        }
        if (!problem.isEmpty()) {
            parts.add(problem);
        }
        String nowSummary = nowReady ? String.join("; ", parts)
                : "starting: waiting for " + (read ? String.join(", ", waiting) : "the configuration file");
        if (nowReady == ready && nowSummary.equals(summary)) {
            return;
        }
        if (nowReady && !ready) {
            LOG.info(() -> "diskhost is ready: " + nowSummary);
        }
        ready = nowReady;
        summary = nowSummary;
        try {
            registration.setProperties(properties());
        } catch (IllegalStateException e) {
            // unregistered meanwhile
        }
    }

    /** The configuration PIDs that installed bundles declare as frontends. */
    private Set<String> declaredFrontends() {
        Set<String> pids = new LinkedHashSet<>();
        for (Bundle bundle : context.getBundles()) {
            BundleRevision revision = bundle.adapt(BundleRevision.class);
            if (revision == null) {
                continue;
            }
            for (BundleCapability capability : revision.getDeclaredCapabilities(FrontendStatus.NAMESPACE)) {
                Object pid = capability.getAttributes().get(FrontendStatus.PID_ATTRIBUTE);
                if (pid != null) {
                    pids.add(pid.toString());
                }
            }
        }
        return pids;
    }

    private Hashtable<String, Object> properties() {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(READY, ready);
        properties.put(SUMMARY, summary);
        return properties;
    }

    @Override
    public synchronized boolean ready() {
        return ready;
    }

    @Override
    public synchronized String summary() {
        return summary;
    }
}
