package org.diskhost.frontend.nbd;

import java.util.Hashtable;
import java.util.List;

import org.diskhost.api.status.FrontendStatus;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/** The NBD server's {@link FrontendStatus} service, fixed for the life of one configuration. */
final class FrontendStatusService implements FrontendStatus {
    private final String pid;
    private final State state;
    private final List<String> endpoints;
    private final String reason;
    private final ServiceRegistration<FrontendStatus> registration;

    private FrontendStatusService(BundleContext context, String pid, State state, List<String> endpoints,
            String reason) {
        this.pid = pid;
        this.state = state;
        this.endpoints = List.copyOf(endpoints);
        this.reason = reason;
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(PID, pid);
        properties.put(STATE, state.name());
        properties.put(ENDPOINTS, endpoints.toArray(String[]::new));
        properties.put(REASON, reason);
        this.registration = context.registerService(FrontendStatus.class, this, properties);
    }

    static FrontendStatusService listening(BundleContext context, String pid, List<String> endpoints) {
        return new FrontendStatusService(context, pid, State.LISTENING, endpoints, "");
    }

    static FrontendStatusService failed(BundleContext context, String pid, String reason) {
        return new FrontendStatusService(context, pid, State.FAILED, List.of(), reason);
    }

    void unregister() {
        try {
            registration.unregister();
        } catch (IllegalStateException e) {
            // already unregistered (the bundle is stopping)
        }
    }

    @Override
    public String pid() {
        return pid;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public List<String> endpoints() {
        return endpoints;
    }

    @Override
    public String reason() {
        return reason;
    }
}
