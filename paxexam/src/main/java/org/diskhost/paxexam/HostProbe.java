package org.diskhost.paxexam;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;

import org.diskhost.api.Disk;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The host as a test inside the framework sees it: disks configured through Configuration Admin (as the host's
 * configuration file would), their published {@link Disk} services awaited, the host's shell commands run.
 * Create one with the probe's injected {@link BundleContext}; it needs the bundles {@link DiskhostOptions#host()}
 * provisions. Waits are bounded by {@link #TIMEOUT}, and a disk that does not appear in time fails with the host's
 * own account of it ({@code disks}).
 */
public final class HostProbe {
    /** The factory PID of disk configurations; each is named after its disk. */
    public static final String DISK_FACTORY_PID = "org.diskhost.disk";

    /** How long a wait of this class lasts at most. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final BundleContext context;

    private ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> configurationAdmins;

    public HostProbe(BundleContext context) {
        this.context = context;
    }

    /** The host's data directory ({@link DiskhostOptions#dataDirectory}): relative spec paths resolve against it. */
    public Path dataDirectory() {
        String data = context.getProperty(DiskhostOptions.DATA_PROPERTY);
        if (data == null) {
            throw new IllegalStateException("no data directory: add DiskhostOptions.dataDirectory(...)");
        }
        return Path.of(data);
    }

    /** Creates or updates disk {@code name} with a spec given as JSON text, as the host's configuration file would. */
    public void configure(String name, String specJson) throws IOException {
        Configuration configuration = configurationAdmin().getFactoryConfiguration(DISK_FACTORY_PID, name, "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("diskhost.name", name);
        properties.put("diskhost.spec", specJson);
        configuration.update(properties);
    }

    /** Removes disk {@code name}'s configuration and waits until its {@link Disk} service is gone. */
    public void remove(String name) throws IOException, InterruptedException {
        configurationAdmin().getFactoryConfiguration(DISK_FACTORY_PID, name, "?").delete();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (published(name) != null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("disk '" + name + "' was still published " + TIMEOUT.toSeconds()
                        + " s after its configuration was deleted");
            }
            Thread.sleep(20);
        }
    }

    /** The names of the disks configured in Configuration Admin, published or not. */
    public List<String> configuredDisks() throws IOException {
        try {
            Configuration[] found = configurationAdmin().listConfigurations(
                    "(service.factoryPid=" + DISK_FACTORY_PID + ")");
            return found == null ? List.of() : Arrays.stream(found)
                    .map(c -> String.valueOf(c.getProperties().get("diskhost.name"))).sorted().toList();
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The published disk {@code name}, waiting up to {@link #TIMEOUT} for it. */
    public Disk awaitDisk(String name) throws Exception {
        ServiceTracker<Disk, Disk> tracker =
                new ServiceTracker<>(context, context.createFilter(diskFilter(name)), null);
        tracker.open();
        try {
            Disk disk = tracker.waitForService(TIMEOUT.toMillis());
            if (disk == null) {
                throw new AssertionError("disk '" + name + "' was not published within " + TIMEOUT.toSeconds()
                        + " s; the host says:\n" + shell("disks"));
            }
            return disk;
        } finally {
            tracker.close();
        }
    }

    /**
     * Runs the host's shell command {@code function} through its command service, as Gogo would: by reflection,
     * so that it works from any class space, a framework the test started itself included.
     */
    public String shell(String function, Object... args) throws Exception {
        ServiceReference<?>[] refs = commands(function);
        if (refs == null) {
            throw new AssertionError("no diskhost shell command " + function + " is registered");
        }
        Object commands = context.getService(refs[0]);
        try {
            for (Method method : commands.getClass().getMethods()) {
                if (method.getName().equals(function) && method.getParameterCount() == args.length) {
                    return (String) method.invoke(commands, args);
                }
            }
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            context.ungetService(refs[0]);
        }
        throw new AssertionError("no command " + function + " with " + args.length + " arguments");
    }

    /**
     * Runs a shell command until its output contains {@code expected} (up to {@link #TIMEOUT}, waiting for the
     * command to be registered too); returns that output.
     */
    public String awaitShell(String expected, String function, Object... args) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        String out = "(no diskhost shell command " + function + ")";
        do {
            if (commands(function) != null) {
                out = shell(function, args);
                if (out.contains(expected)) {
                    return out;
                }
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected \"" + expected + "\" in:\n" + out);
    }

    private ServiceReference<?>[] commands(String function) throws InvalidSyntaxException {
        // All references: the command classes need not be visible to the caller's class space.
        return context.getAllServiceReferences(null,
                "(&(osgi.command.scope=diskhost)(osgi.command.function=" + function + "))");
    }

    private ServiceReference<?> published(String name) {
        try {
            ServiceReference<?>[] refs = context.getServiceReferences(Disk.class.getName(), nameFilter(name));
            return refs == null ? null : refs[0];
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException("disk name " + name, e);
        }
    }

    private synchronized ConfigurationAdmin configurationAdmin() {
        if (configurationAdmins == null) {
            // Kept open for the probe's life: the service object stays valid while it is tracked.
            configurationAdmins = new ServiceTracker<>(context, ConfigurationAdmin.class, null);
            configurationAdmins.open();
        }
        try {
            ConfigurationAdmin admin = configurationAdmins.waitForService(TIMEOUT.toMillis());
            if (admin == null) {
                throw new IllegalStateException("no Configuration Admin service: add DiskhostOptions.host()");
            }
            return admin;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Configuration Admin", e);
        }
    }

    private static String diskFilter(String name) {
        return "(&(objectClass=" + Disk.class.getName() + ")" + nameFilter(name) + ")";
    }

    private static String nameFilter(String name) {
        return "(diskhost.name=" + name.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                .replace("*", "\\*") + ")";
    }
}
