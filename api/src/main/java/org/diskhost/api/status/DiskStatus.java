package org.diskhost.api.status;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The state of one configured disk, registered by the host as a service for as long as the disk is configured. The
 * service properties {@value #NAME}, {@value #STATE} and {@value #REASON} carry the same values as the methods and are
 * updated (a {@code MODIFIED} service event) whenever the state or the reason changes.
 */
@ProviderType
public interface DiskStatus {
    /** Service property: the disk's name (a {@code String}), as on the disk's {@code Disk} service. */
    String NAME = "diskhost.name";
    /** Service property: the {@link State}'s name (a {@code String}). */
    String STATE = "diskhost.state";
    /** Service property: why the disk is not ready (a {@code String}), empty when it is. */
    String REASON = "diskhost.reason";

    /** Where a configured disk is in its life. */
    enum State {
        /** Its chain is being built (first start, or a rebuild for a changed configuration). */
        RESOLVING,
        /** A chain serves it, and its {@code Disk} service is (or is about to be) registered. */
        READY,
        /** It waits for a resolver of a kind its chain needs (a backend bundle not started yet, or being updated). */
        WAITING,
        /** Its chain cannot be built from this configuration; {@link DiskStatus#reason()} says why. */
        FAILED;

        /** Whether the disk got as far as it will without a change: {@link #READY} or {@link #FAILED}. */
        public boolean settled() {
            return this == READY || this == FAILED;
        }
    }

    /** The disk's name. */
    String name();

    /** The disk's state now. */
    State state();

    /** Why the disk is not ready, naming the disk, the kind and the setting at fault where one is; empty when ready. */
    String reason();
}
