package org.diskhost.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceConsumer;

/**
 * Starts the diskhost host: an embedded Apache Felix framework with the bundles of the distribution (SCR,
 * Configuration Admin, the Gogo shell, the API, the backends and the host core), a watched deploy directory, and
 * a clean stop on Ctrl-C.
 *
 * <pre>
 * diskhost --config FILE --data DIR --bundles DIR [--deploy DIR] [--no-shell] [--log-level LEVEL]
 * </pre>
 */
// The framework is found with ServiceLoader, so the module descriptor needs 'uses FrameworkFactory'.
@ServiceConsumer(value = FrameworkFactory.class, resolution = Resolution.OPTIONAL, effective = "active")
public final class Main {
    private static final Logger LOG = Logger.getLogger("diskhost");

    private Main() {
    }

    record Options(Path config, Path data, Path bundles, Path deploy, boolean shell, Level logLevel) {
        static Options parse(String[] args) {
            Map<String, String> values = new HashMap<>();
            boolean shell = true;
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                switch (arg) {
                    case "--no-shell" -> shell = false;
                    case "--config", "--data", "--bundles", "--deploy", "--log-level" -> {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(arg + " needs a value");
                        }
                        values.put(arg, args[++i]);
                    }
                    case "--help", "-h" -> throw new IllegalArgumentException("usage");
                    default -> throw new IllegalArgumentException("unknown option " + arg);
                }
            }
            for (String required : List.of("--config", "--data", "--bundles")) {
                if (!values.containsKey(required)) {
                    throw new IllegalArgumentException("missing " + required);
                }
            }
            return new Options(Path.of(values.get("--config")).toAbsolutePath(),
                    Path.of(values.get("--data")).toAbsolutePath(), Path.of(values.get("--bundles")).toAbsolutePath(),
                    values.containsKey("--deploy") ? Path.of(values.get("--deploy")).toAbsolutePath() : null, shell,
                    Logs.level(values.getOrDefault("--log-level", "info")));
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("diskhost: " + e.getMessage());
            System.err.println("usage: diskhost --config FILE --data DIR --bundles DIR [--deploy DIR] [--no-shell]"
                    + " [--log-level severe|warning|info|fine|finer|finest|off]");
            System.exit(2);
            return;
        }
        Logs.install(options.logLevel(), System.getenv());
        LOG.info(() -> "diskhost " + version() + " on JDK " + Runtime.version() + " ("
                + System.getProperty("java.vendor", "?") + ", " + System.getProperty("java.home") + "); data "
                + options.data() + "; configuration " + options.config());
        Optional<SystemdNotifier> systemd = SystemdNotifier.fromEnvironment(System.getenv());
        Framework framework = start(options, systemd);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            systemd.ifPresent(SystemdNotifier::stopping);
            stop(framework);
        }, "diskhost-shutdown"));
        onSighup(() -> reload(framework.getBundleContext(), systemd));
        FrameworkEvent event = framework.waitForStop(0);
        reportStopped();
        System.exit(event.getType() == FrameworkEvent.ERROR ? 1 : 0);
    }

    /** Runs {@code action} on its own thread at every SIGHUP (instead of the JVM's default for it: exiting). */
    private static void onSighup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"),
                    signal -> Thread.ofPlatform().name("diskhost-reload").start(action));
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "no reload on SIGHUP here: " + e.getMessage());
        }
    }

    /** Re-reads the configuration: runs the services that offer a reload ({@code diskhost.reload=true}). */
    static void reload(BundleContext context, Optional<SystemdNotifier> systemd) {
        LOG.info("SIGHUP: reloading the configuration");
        systemd.ifPresent(SystemdNotifier::reloading);
        try {
            ServiceReference<?>[] reloaders = context.getServiceReferences(Runnable.class.getName(), RELOAD_FILTER);
            for (ServiceReference<?> reference : reloaders == null ? new ServiceReference<?>[0] : reloaders) {
                Runnable reloader = (Runnable) context.getService(reference);
                if (reloader != null) {
                    try {
                        reloader.run();
                    } finally {
                        context.ungetService(reference);
                    }
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        } catch (IllegalStateException e) {
            return; // the framework is stopping
        }
        systemd.ifPresent(n -> n.reloaded(context));
    }

    /** The services that re-read the configuration when run (the host core's JSON source). */
    static final String RELOAD_FILTER = "(diskhost.reload=true)";

    static Framework start(Options options) throws IOException, BundleException {
        return start(options, Optional.empty());
    }

    static Framework start(Options options, Optional<SystemdNotifier> systemd) throws IOException, BundleException {
        Files.createDirectories(options.data());
        Map<String, String> properties = new HashMap<>();
        properties.put(Constants.FRAMEWORK_STORAGE, options.data().resolve("felix-cache").toString());
        // A fresh framework every start: the configuration file, not a cache, is the truth.
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put("diskhost.config", options.config().toString());
        properties.put("diskhost.data", options.data().toString());
        // An interactive shell only on a terminal; its EOF (Ctrl-D) then stops the host.
        if (!options.shell() || System.console() == null) {
            properties.put("gosh.args", "--nointeractive");
        }
        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(properties);
        framework.init();
        BundleContext context = framework.getBundleContext();
        systemd.ifPresent(notifier -> {
            notifier.watch(context);
            // The framework stops (Ctrl-C, SIGTERM, 'stop 0' in the shell): said before any bundle stops.
            context.addBundleListener((SynchronousBundleListener) event -> {
                if (event.getBundle().getBundleId() == 0 && event.getType() == BundleEvent.STOPPING) {
                    notifier.stopping();
                }
            });
            notifier.startWatchdog(System.getenv(), () -> framework.getState() == Bundle.ACTIVE
                    || framework.getState() == Bundle.STARTING);
        });
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars(options.bundles())) {
            installed.add(context.installBundle(jar.toUri().toString()));
        }
        framework.start();
        for (Bundle bundle : installed) {
            startIfNotFragment(bundle);
        }
        LOG.info(() -> "diskhost started: " + installed.size() + " bundles from " + options.bundles());
        if (options.deploy() != null) {
            Files.createDirectories(options.deploy());
            Thread watcher = new Thread(new DeployWatcher(context, options.deploy()), "diskhost-deploy-watcher");
            watcher.setDaemon(true);
            watcher.start();
            LOG.info(() -> "watching " + options.deploy() + " for bundles to install or upgrade");
        }
        return framework;
    }

    /** The launcher's version, from its jar's manifest. */
    static String version() {
        try {
            Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (JarFile file = new JarFile(jar.toFile())) {
                String version = file.getManifest().getMainAttributes().getValue(Constants.BUNDLE_VERSION);
                return version == null ? "(unknown version)" : version;
            }
        } catch (Exception e) {
            return "(unknown version)"; // run from classes, not from the jar
        }
    }

    static void startIfNotFragment(Bundle bundle) {
        if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
            return;
        }
        try {
            bundle.start();
        } catch (BundleException e) {
            LOG.log(Level.WARNING, e, () -> "cannot start " + bundle.getSymbolicName());
        }
    }

    static List<Path> jars(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException("no bundle directory " + directory + " (build with ./mvnw package)");
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }

    /** The Bundle-SymbolicName of a jar, without attributes; null if it is not a bundle. */
    static String symbolicName(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            var manifest = file.getManifest();
            String bsn = manifest == null ? null : manifest.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME);
            return bsn == null ? null : bsn.split(";")[0].trim();
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean STOPPED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Says once that the host stopped. Not through the logger: its own shutdown hook may already have closed the
     * handlers. On a signal the JVM halts when the hooks end, so the hook reports it rather than the main thread.
     */
    private static void reportStopped() {
        if (STOPPED.compareAndSet(false, true)) {
            System.err.println("diskhost stopped");
        }
    }

    private static void stop(Framework framework) {
        try {
            if (framework.getState() == Bundle.ACTIVE || framework.getState() == Bundle.STARTING) {
                System.err.println("diskhost: stopping (closing every disk)");
                framework.stop();
                framework.waitForStop(30_000);
            }
            reportStopped();
        } catch (Exception e) {
            LOG.log(Level.WARNING, e, () -> "clean stop failed");
        }
    }
}
