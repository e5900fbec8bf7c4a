package org.diskhost.api.status;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The host as a whole, registered once by the host: {@link #ready()} once it has read its configuration, every
 * configured disk is ready or failed ({@link DiskStatus.State#settled()}), and every configured frontend listens or
 * failed. The service properties {@value #READY} and {@value #SUMMARY} carry the values of the methods and are updated
 * (a {@code MODIFIED} service event) whenever either changes.
 */
@ProviderType
public interface HostStatus {
    /** Service property: {@link #ready()} (a {@code Boolean}). */
    String READY = "diskhost.ready";
    /** Service property: {@link #summary()} (a {@code String}). */
    String SUMMARY = "diskhost.summary";

    /** Whether the host got as far as its configuration lets it, for now. */
    boolean ready();

    /**
     * One line for people: what is ready and where it is served, what failed and why, or, while not ready, what the
     * host waits for (the {@code STATUS=} a service manager shows).
     */
    String summary();
}
