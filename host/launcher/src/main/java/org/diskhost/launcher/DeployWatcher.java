package org.diskhost.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Watches a directory for bundle jars. A new jar is installed and started, or, when a bundle with its symbolic
 * name is already installed, that bundle is upgraded from it; a changed jar updates its bundle; a removed jar
 * uninstalls the bundle it installed. After an update or uninstall the affected wiring is refreshed. A jar is
 * acted on once its size and time have been stable for one scan, so a half-copied file is not read.
 */
final class DeployWatcher implements Runnable {
    private static final Logger LOG = Logger.getLogger("diskhost.deploy");
    private static final long SCAN_MILLIS = 1000;

    private record Seen(FileTime modified, long size) {
    }

    private final BundleContext context;
    private final Path directory;
    /** The state of each jar when last acted on. */
    private final Map<Path, Seen> handled = new HashMap<>();
    /** The state of each jar at the previous scan, to wait for copies to finish. */
    private final Map<Path, Seen> previous = new HashMap<>();
    /** Which bundle each jar installed or upgraded. */
    private final Map<Path, Long> bundleOf = new HashMap<>();

    DeployWatcher(BundleContext context, Path directory) {
        this.context = context;
        this.directory = directory;
    }

    @Override
    public void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                scan();
                Thread.sleep(SCAN_MILLIS);
            } catch (InterruptedException e) {
                return;
            } catch (IllegalStateException e) {
                return; // the framework is stopping
            } catch (Exception e) {
                LOG.log(Level.WARNING, e, () -> "deploy scan failed");
            }
        }
    }

    void scan() throws IOException {
        List<Path> jars = Main.jars(directory);
        for (Path jar : jars) {
            Seen now = new Seen(Files.getLastModifiedTime(jar), Files.size(jar));
            Seen before = previous.put(jar, now);
            if (!now.equals(before) || now.equals(handled.get(jar))) {
                continue; // still being written, or nothing new
            }
            handled.put(jar, now);
            deploy(jar);
        }
        for (Path gone : List.copyOf(handled.keySet())) {
            if (!jars.contains(gone)) {
                handled.remove(gone);
                previous.remove(gone);
                Long id = bundleOf.remove(gone);
                Bundle bundle = id == null ? null : context.getBundle(id);
                if (bundle != null && bundle.getLocation().equals(gone.toUri().toString())) {
                    uninstall(bundle);
                }
            }
        }
    }

    private void deploy(Path jar) {
        try {
            String bsn = Main.symbolicName(jar);
            if (bsn == null) {
                LOG.warning(() -> jar + " is not a bundle (no Bundle-SymbolicName); ignored");
                return;
            }
            Bundle existing = installedBundle(bsn);
            if (existing != null) {
                upgrade(existing, jar);
                bundleOf.put(jar, existing.getBundleId());
                LOG.info(() -> "upgraded " + bsn + " from " + jar.getFileName() + " (now "
                        + existing.getVersion() + ")");
            } else {
                Bundle bundle = context.installBundle(jar.toUri().toString());
                Main.startIfNotFragment(bundle);
                bundleOf.put(jar, bundle.getBundleId());
                LOG.info(() -> "installed " + bsn + " " + bundle.getVersion() + " from " + jar.getFileName());
            }
        } catch (Exception e) {
            LOG.log(Level.WARNING, e, () -> "cannot deploy " + jar.getFileName());
        }
    }

    /**
     * Stops the bundle, updates it, refreshes its wiring while it is stopped (if the old revision is still wired),
     * and starts it again: the disks it serves pause once. (Update alone restarts it, and a refresh that removes the
     * old revision would restart it a second time.)
     */
    private void upgrade(Bundle bundle, Path jar) throws Exception {
        // Started afterwards if it runs now, or should (a broken version that failed to start is still marked so).
        boolean wasActive = bundle.getState() == Bundle.ACTIVE || bundle.getState() == Bundle.STARTING
                || bundle.adapt(org.osgi.framework.startlevel.BundleStartLevel.class).isPersistentlyStarted();
        bundle.stop(Bundle.STOP_TRANSIENT);
        try (InputStream in = Files.newInputStream(jar)) {
            bundle.update(in);
        }
        // A bundle that exports nothing (a backend) loses its old revision at the update: no refresh, shorter pause.
        if (context.getBundle(0).adapt(FrameworkWiring.class).getRemovalPendingBundles().contains(bundle)) {
            refresh(List.of(bundle));
        }
        if (wasActive) {
            bundle.start();
        }
    }

    private Bundle installedBundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    private void uninstall(Bundle bundle) {
        try {
            String bsn = bundle.getSymbolicName();
            bundle.uninstall();
            refresh(List.of(bundle));
            LOG.info(() -> "uninstalled " + bsn);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "cannot uninstall " + bundle.getSymbolicName(), e);
        }
    }

    /** Refreshes and waits (bounded) for the refresh to finish. */
    private void refresh(Collection<Bundle> bundles) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(bundles, event -> done.countDown());
        if (!done.await(60, TimeUnit.SECONDS)) {
            LOG.warning("refreshing " + bundles + " did not finish within 60 s");
        }
    }
}
