package org.diskhost.host.core;

import java.util.Hashtable;

import org.diskhost.api.status.DiskStatus;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * The {@link DiskStatus} service of one configured disk: registered when the disk's configuration arrives,
 * unregistered when it is removed; its properties are updated whenever the state or the reason changes.
 */
final class PublishedStatus implements DiskStatus {
    private final String name;
    private State state; // guarded by this
    private String reason; // guarded by this
    private ServiceRegistration<DiskStatus> registration; // guarded by this

    private PublishedStatus(String name, State state, String reason) {
        this.name = name;
        this.state = state;
        this.reason = reason;
    }

    /** Registers the status of disk {@code name}. */
    static PublishedStatus register(BundleContext context, String name, State state, String reason) {
        PublishedStatus status = new PublishedStatus(name, state, reason);
        synchronized (status) {
            status.registration = context.registerService(DiskStatus.class, status, status.properties());
        }
        return status;
    }

    /** The status of {@code disk}, following its state from now on. */
    static PublishedStatus follow(BundleContext context, HostedDisk disk) {
        PublishedStatus status = register(context, disk.name, State.RESOLVING, "");
        disk.onChange(() -> status.update(disk));
        status.update(disk);
        return status;
    }

    /**
     * Reads the disk's state and publishes it. The read and the update happen under this status's lock, so the last
     * update to run publishes the latest state, whatever order the threads that changed the disk arrive in.
     */
    private synchronized void update(HostedDisk disk) {
        State now = switch (disk.state()) {
            case RESOLVING -> State.RESOLVING;
            case READY -> State.READY;
            case WAITING -> State.WAITING;
            case FAILED -> State.FAILED;
            case CLOSED -> null; // the host unregisters the status
        };
        if (now != null) {
            set(now, disk.reason());
        }
    }

    /** Publishes {@code newState} and {@code newReason} if they differ from what is published. */
    synchronized void set(State newState, String newReason) {
        if (newState == state && newReason.equals(reason)) {
            return;
        }
        state = newState;
        reason = newReason;
        if (registration != null) {
            try {
                registration.setProperties(properties());
            } catch (IllegalStateException e) {
                // unregistered meanwhile
            }
        }
    }

    synchronized void unregister() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // already unregistered (the bundle is stopping)
            }
            registration = null;
        }
    }

    private Hashtable<String, Object> properties() {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(NAME, name);
        properties.put(STATE, state.name());
        properties.put(REASON, reason);
        return properties;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public synchronized State state() {
        return state;
    }

    @Override
    public synchronized String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return "DiskStatus[" + name + ": " + state() + "]";
    }
}
