package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.status.DiskStatus;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The NBD server as an OSGi component: runs while configuration {@value #PID} exists, and serves the host's
 * {@link Disk} services (by their {@code diskhost.name}) as they come and go. A change of the configuration restarts
 * the server; a disk that goes away closes the connections to its exports, and a disk paused for a hot swap stays
 * registered, so its clients' requests wait. It registers a {@link org.diskhost.api.status.FrontendStatus}: where it
 * listens, or why it could not start.
 */
@Component(configurationPid = NbdServerComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        immediate = true, service = {})
public final class NbdServerComponent {
    private static final Logger LOG = Logger.getLogger(NbdServerComponent.class.getName());

    /** The configuration PID. */
    public static final String PID = "org.diskhost.nbd";
    /** The service property that names a disk. */
    static final String DISK_NAME = "diskhost.name";
    /** Framework property: the directory relative paths are resolved against. */
    static final String DATA_DIRECTORY = "diskhost.data";

    private final Map<String, Disk> disks = new LinkedHashMap<>(); // guarded by this
    private final Map<String, NbdServer.Status> statuses = new LinkedHashMap<>(); // guarded by this
    private NbdServer server; // guarded by this
    private final FrontendStatusService status;

    @Activate
    public NbdServerComponent(BundleContext context, Map<String, Object> properties) {
        String data = context.getProperty(DATA_DIRECTORY);
        Path base = Path.of(data == null ? "." : data).toAbsolutePath();
        NbdServer started = null;
        String failure = null;
        try {
            NbdOptions options = NbdOptions.parse(properties, base);
            started = new NbdServer(options);
            synchronized (this) {
                disks.forEach(started::putDisk);
                statuses.forEach(started::putStatus);
                server = started;
            }
            started.start();
        } catch (IllegalArgumentException e) {
            failure = e.getMessage();
        } catch (IOException e) {
            failure = "cannot listen: " + e.getMessage();
        }
        if (failure != null) {
            // Expected errors (a bad setting, an address in use): one line, and a status that says why, instead of a
            // component that failed to activate. The component stays until its configuration changes.
            String why = failure;
            LOG.severe(() -> "NBD server not started: " + why);
            synchronized (this) {
                server = null;
            }
            status = FrontendStatusService.failed(context, PID, why);
        } else {
            status = FrontendStatusService.listening(context, PID, started.endpoints());
        }
    }

    @Deactivate
    synchronized void deactivate() {
        status.unregister();
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Reference(service = Disk.class, cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void addDisk(Disk disk, Map<String, Object> properties) {
        Object name = properties.get(DISK_NAME);
        if (name == null) {
            return;
        }
        disks.put(name.toString(), disk);
        if (server != null) {
            server.putDisk(name.toString(), disk);
        }
    }

    synchronized void updatedDisk(Disk disk, Map<String, Object> properties) {
        addDisk(disk, properties);
    }

    synchronized void removeDisk(Disk disk, Map<String, Object> properties) {
        Object name = properties.get(DISK_NAME);
        if (name != null && disks.get(name.toString()) == disk) {
            disks.remove(name.toString());
            if (server != null) {
                server.removeDisk(name.toString());
            }
        }
    }

    /**
     * The host's status of every configured disk: a client asking for a configured disk that is not ready yet waits
     * for it (within the handshake timeout) instead of being refused.
     */
    @Reference(service = DiskStatus.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    synchronized void addStatus(Map<String, Object> properties) {
        Object name = properties.get(DiskStatus.NAME);
        DiskStatus.State state = stateOf(properties.get(DiskStatus.STATE));
        if (name == null || state == null) {
            return;
        }
        Object reason = properties.get(DiskStatus.REASON);
        NbdServer.Status status = new NbdServer.Status(state, reason == null ? "" : reason.toString());
        statuses.put(name.toString(), status);
        if (server != null) {
            server.putStatus(name.toString(), status);
        }
    }

    synchronized void updatedStatus(Map<String, Object> properties) {
        addStatus(properties);
    }

    synchronized void removeStatus(Map<String, Object> properties) {
        Object name = properties.get(DiskStatus.NAME);
        if (name != null && statuses.remove(name.toString()) != null && server != null) {
            server.removeStatus(name.toString());
        }
    }

    private static DiskStatus.State stateOf(Object value) {
        try {
            return value == null ? null : DiskStatus.State.valueOf(value.toString());
        } catch (IllegalArgumentException e) {
            return null; // a state of a newer host: treat the disk as unknown
        }
    }
}
