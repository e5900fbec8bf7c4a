package org.diskhost.api.status;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The state of one running frontend (one configuration of it), registered by the frontend as a service while its
 * component is active. The service properties {@value #PID}, {@value #STATE}, {@value #ENDPOINTS} and {@value #REASON}
 * carry the values of the methods.
 *
 * <p>A bundle that provides a frontend declares the configuration PID it runs on with the capability
 * {@code Provide-Capability: org.diskhost.frontend;pid=PID} ({@link #NAMESPACE}), so that the host knows, before the
 * frontend is up, that a configuration of that PID stands for a frontend it must wait for.
 */
@ProviderType
public interface FrontendStatus {
    /** The capability namespace in which a bundle declares the configuration PID of a frontend it provides. */
    String NAMESPACE = "org.diskhost.frontend";
    /** The attribute of a {@link #NAMESPACE} capability that names the PID. */
    String PID_ATTRIBUTE = "pid";
    /** Service property: the frontend's configuration PID (a {@code String}), such as {@code org.diskhost.nbd}. */
    String PID = "diskhost.frontend";
    /** Service property: the {@link State}'s name (a {@code String}). */
    String STATE = "diskhost.state";
    /** Service property: where it listens (a {@code String[]}), such as {@code tcp 127.0.0.1:10809}. */
    String ENDPOINTS = "diskhost.endpoints";
    /** Service property: why it failed (a {@code String}), empty while it listens. */
    String REASON = "diskhost.reason";

    /** How far a frontend got. */
    enum State {
        /** It accepts clients on its {@link FrontendStatus#endpoints()}. */
        LISTENING,
        /** It could not start with its configuration (a bad setting, an address in use); it serves nobody. */
        FAILED
    }

    /** The configuration PID the frontend runs on. */
    String pid();

    /** Its state. */
    State state();

    /** Where it listens, in a form people read ({@code tcp 127.0.0.1:10809}, {@code unix /var/lib/...}). */
    List<String> endpoints();

    /** Why it failed, naming the setting at fault where one is; empty while it listens. */
    String reason();
}
