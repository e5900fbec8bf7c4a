package org.diskhost.paxexam.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Hashtable;

import org.diskhost.paxexam.DiskhostOptions;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Inside the framework: turns the NBD settings {@link DiskhostOptions#nbd(String, String)} gave as framework
 * properties into configuration {@code org.diskhost.nbd}, once Configuration Admin is there. Pax Exam can set
 * properties but not configurations, and this keeps the test from needing a configuration file for the server.
 */
public final class NbdSettings implements BundleActivator {
    private static final String NBD_PID = "org.diskhost.nbd";

    private ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> tracker;

    @Override
    public void start(BundleContext context) {
        String listen = context.getProperty(DiskhostOptions.NBD_LISTEN_PROPERTY);
        if (listen == null) {
            return;
        }
        Hashtable<String, Object> settings = new Hashtable<>();
        settings.put("listen", listen);
        String unixSocket = context.getProperty(DiskhostOptions.NBD_UNIX_SOCKET_PROPERTY);
        if (unixSocket != null) {
            settings.put("unixSocket", unixSocket);
        }
        tracker = new ServiceTracker<>(context, ConfigurationAdmin.class, null) {
            @Override
            public ConfigurationAdmin addingService(ServiceReference<ConfigurationAdmin> reference) {
                ConfigurationAdmin admin = super.addingService(reference);
                try {
                    admin.getConfiguration(NBD_PID, "?").update(settings);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot configure " + NBD_PID, e);
                }
                return admin;
            }
        };
        tracker.open();
    }

    @Override
    public void stop(BundleContext context) {
        if (tracker != null) {
            tracker.close();
        }
    }
}
