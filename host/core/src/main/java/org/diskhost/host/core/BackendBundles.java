package org.diskhost.host.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.zip.ZipEntry;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * The bundles that provide resolvers, watched across updates so a broken new version is rolled back.
 *
 * <p>Whichever way a backend bundle is updated (the {@code upgrade} command, a jar dropped into the watched
 * directory, {@code Bundle.update} from any caller), the host watches the new revision: it must register resolvers
 * for every kind the bundle provided before, within the swap timeout. If it fails to resolve or start (a framework
 * error), builds no resolver in time, or its resolver refuses a chain that the old one built (for instance state it
 * cannot import), the host updates the bundle back to the last revision that worked, so the disks that wait for it
 * come back with their state. That copy (<em>known good</em>) is a jar the host rebuilds from the bundle's entries
 * once its resolvers are up, kept in the host bundle's data area. When there is no such copy, or the rollback fails
 * too, the requests waiting for the bundle's kinds fail with an Io error that says why.
 *
 * <p>A bundle that is stopped on purpose (not persistently started) is not watched: its disks wait, as always.
 */
final class BackendBundles implements SynchronousBundleListener, FrameworkListener {
    private static final Logger LOG = Logger.getLogger(BackendBundles.class.getName());
    private static final int HISTORY = 50;

    /** Something that happened to a backend bundle, for the {@code swaps} command. */
    record Event(Instant at, String bundle, String what) {
        @Override
        public String toString() {
            return at + " " + bundle + ": " + what;
        }
    }

    /** What the host knows of one bundle. Guarded by the enclosing instance. */
    private static final class Backend {
        final long id;
        /** Kinds it provided when it last worked: {@code file}, or {@code layer:ram} for a layer kind. */
        final Set<String> kinds = new LinkedHashSet<>();
        /** Kinds registered now. */
        final Set<String> present = new LinkedHashSet<>();
        int revision;
        /** The revision the known-good copy was taken of (its last-modified time), or 0 for none. */
        long knownGoodModified;
        Path knownGood;
        Watch watch;
        /** Set while the host updates the bundle back, so that update is watched without another rollback. */
        boolean rollingBack;

        Backend(long id) {
            this.id = id;
        }
    }

    /** The watch over one update: the kinds expected back, and the deadline. */
    private record Watch(Set<String> expected, long startedNanos, boolean rollback, ScheduledFuture<?> timeout) {
    }

    private final BundleContext context;
    private final Path knownGoodDirectory;
    private final Duration swapTimeout;
    private final ScheduledExecutorService timer;
    /** Runs rollbacks and snapshots: bundle operations must not run on framework event threads. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "diskhost-backend-bundles");
        t.setDaemon(true);
        return t;
    });
    /** Told the kinds and the reason when an update failed for good: the host fails the requests waiting for them. */
    private final BiConsumer<Set<String>, String> giveUp;
    private final Map<Long, Backend> backends = new HashMap<>();
    private final Deque<Event> history = new ArrayDeque<>();

    BackendBundles(BundleContext context, Duration swapTimeout, ScheduledExecutorService timer,
            BiConsumer<Set<String>, String> giveUp) {
        this.context = context;
        this.swapTimeout = swapTimeout;
        this.timer = timer;
        this.giveUp = giveUp;
        java.io.File data = context.getDataFile("known-good"); // null without a persistent bundle storage area
        this.knownGoodDirectory = data == null ? null : data.toPath();
    }

    void open() {
        context.addBundleListener(this);
        context.addFrameworkListener(this);
    }

    void close() {
        context.removeBundleListener(this);
        context.removeFrameworkListener(this);
        worker.shutdownNow();
    }

    // ---- resolvers come and go ----

    /**
     * A resolver of {@code kind} from {@code bundle} is registered.
     *
     * @return false while the bundle was just updated and not all of its kinds are back yet: disks are better
     *         rebuilt once, when they are, than once per kind
     */
    boolean arrived(Bundle bundle, String kind) {
        if (bundle == null) {
            return true;
        }
        boolean snapshot = false;
        boolean complete = true;
        synchronized (this) {
            Backend b = backends.computeIfAbsent(bundle.getBundleId(), Backend::new);
            b.present.add(kind);
            if (b.watch == null) {
                b.kinds.add(kind);
                snapshot = b.knownGoodModified != bundle.getLastModified();
            } else if (b.present.containsAll(b.watch.expected())) {
                Watch w = b.watch;
                b.watch = null;
                b.rollingBack = false;
                w.timeout().cancel(false);
                b.kinds.addAll(b.present);
                record(bundle, (w.rollback() ? "rolled back; " : "updated to " + bundle.getVersion() + " revision "
                        + b.revision + "; ") + "resolvers for " + String.join(", ", w.expected()) + " back after "
                        + HostedDisk.millis(System.nanoTime() - w.startedNanos()) + " ms");
                snapshot = true;
            } else {
                complete = false;
            }
        }
        if (snapshot) {
            worker.execute(() -> takeKnownGood(bundle));
        }
        return complete;
    }

    /** A resolver of {@code kind} from {@code bundle} is going away. */
    synchronized void departed(Bundle bundle, String kind) {
        if (bundle != null && backends.get(bundle.getBundleId()) instanceof Backend b) {
            b.present.remove(kind);
        }
    }

    /** The revision of {@code bundle}: updates the host has seen since it started. */
    synchronized int revision(Bundle bundle) {
        Backend b = backends.get(bundle.getBundleId());
        return b == null ? 0 : b.revision;
    }

    /**
     * A chain failed to build on a resolver of {@code kind} from {@code bundle} for a reason other than a missing
     * resolver. If that bundle was just updated, the new version is at fault: roll it back.
     *
     * @return true when a rollback (or giving up) was started for it
     */
    boolean chainFailed(Bundle bundle, String kind, String why) {
        if (bundle == null) {
            return false;
        }
        synchronized (this) {
            Backend b = backends.get(bundle.getBundleId());
            if (b == null || b.watch == null || b.watch.rollback()) {
                return false;
            }
        }
        fail(bundle, "its resolver for '" + kind + "' failed: " + why);
        return true;
    }

    /** Whether an update of {@code bundle} is being watched or rolled back. */
    synchronized boolean watching(Bundle bundle) {
        Backend b = bundle == null ? null : backends.get(bundle.getBundleId());
        return b != null && b.watch != null;
    }

    synchronized List<Event> history() {
        return List.copyOf(history);
    }

    // ---- framework events ----

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle bundle = event.getBundle();
        switch (event.getType()) {
            case BundleEvent.UPDATED -> updated(bundle);
            case BundleEvent.UNINSTALLED -> {
                synchronized (this) {
                    Backend b = backends.remove(bundle.getBundleId());
                    if (b != null && b.watch != null) {
                        b.watch.timeout().cancel(false);
                    }
                }
            }
            default -> { }
        }
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.ERROR && event.getBundle() != null && watching(event.getBundle())) {
            Throwable t = event.getThrowable();
            fail(event.getBundle(), "it failed to start: " + (t == null ? "framework error" : t.getMessage()));
        }
    }

    private void updated(Bundle bundle) {
        boolean persistentlyStarted = bundle.adapt(BundleStartLevel.class) instanceof BundleStartLevel level
                && level.isPersistentlyStarted();
        synchronized (this) {
            Backend b = backends.get(bundle.getBundleId());
            if (b == null || b.kinds.isEmpty()) {
                return;
            }
            b.revision++;
            if (b.watch != null) {
                b.watch.timeout().cancel(false);
            }
            if (!persistentlyStarted) {
                b.watch = null;
                return;
            }
            Set<String> expected = Collections.unmodifiableSet(new LinkedHashSet<>(b.kinds));
            ScheduledFuture<?> timeout = timer.schedule(() -> fail(bundle, "no resolver for "
                    + String.join(", ", expected) + " within " + swapTimeout.toMillis() + " ms"),
                    swapTimeout.toMillis(), TimeUnit.MILLISECONDS);
            b.watch = new Watch(expected, System.nanoTime(), b.rollingBack, timeout);
            b.present.clear(); // the old revision's resolvers are gone
        }
        LOG.info(() -> bundle.getSymbolicName() + " " + bundle.getVersion() + " was updated; waiting up to "
                + swapTimeout.toMillis() + " ms for its resolvers");
    }

    /** The watched update of {@code bundle} failed: roll back if possible, else give up on its kinds. */
    void fail(Bundle bundle, String why) {
        Set<String> kinds;
        boolean rollback;
        Path copy;
        synchronized (this) {
            Backend b = backends.get(bundle.getBundleId());
            if (b == null || b.watch == null) {
                return;
            }
            Watch w = b.watch;
            w.timeout().cancel(false);
            kinds = w.expected();
            copy = b.knownGood;
            rollback = !w.rollback() && copy != null;
            if (rollback) {
                b.rollingBack = true;
                // keep watching until the rollback's own update starts a new watch
                b.watch = new Watch(kinds, System.nanoTime(), true, w.timeout());
            } else {
                b.watch = null;
                b.rollingBack = false;
            }
        }
        String name = bundle.getSymbolicName() + " " + bundle.getVersion();
        if (rollback) {
            record(bundle, "the update failed (" + why + "); rolling back to the last revision that worked");
            LOG.warning(() -> name + ": the update failed (" + why + "); rolling back");
            worker.execute(() -> rollBack(bundle, copy, kinds, why));
        } else {
            String reason = "backend bundle " + name + " did not come up (" + why + ")"
                    + (copy == null ? " and there is no earlier revision to roll back to" : " after a rollback");
            record(bundle, reason);
            LOG.severe(reason);
            giveUp.accept(kinds, reason);
        }
    }

    private void rollBack(Bundle bundle, Path copy, Set<String> kinds, String why) {
        try (InputStream in = Files.newInputStream(copy)) {
            replace(context, bundle, in);
            bundle.start(Bundle.START_TRANSIENT); // it is watched, so it runs
        } catch (Exception e) {
            LOG.log(Level.SEVERE, bundle.getSymbolicName() + ": the rollback failed", e);
            String reason = "backend bundle " + bundle.getSymbolicName() + " did not come up (" + why
                    + ") and the rollback failed: " + e.getMessage();
            synchronized (this) {
                Backend b = backends.get(bundle.getBundleId());
                if (b != null) {
                    if (b.watch != null) {
                        b.watch.timeout().cancel(false);
                    }
                    b.watch = null;
                    b.rollingBack = false;
                }
            }
            record(bundle, reason);
            giveUp.accept(kinds, reason);
        }
    }

    /**
     * Replaces the content of {@code bundle} with {@code content} with one pause of its disks: stops it (transiently),
     * updates it, and refreshes it only if its old revision is still wired. The caller starts it.
     *
     * @return whether it should be started: it ran, or is marked to run (a broken version that failed to start)
     */
    static boolean replace(BundleContext context, Bundle bundle, InputStream content)
            throws org.osgi.framework.BundleException, InterruptedException {
        boolean run = bundle.getState() == Bundle.ACTIVE || bundle.getState() == Bundle.STARTING
                || bundle.adapt(BundleStartLevel.class) instanceof BundleStartLevel level
                        && level.isPersistentlyStarted();
        bundle.stop(Bundle.STOP_TRANSIENT);
        bundle.update(content);
        refreshIfPending(context, bundle);
        return run;
    }

    /**
     * Refreshes an updated bundle if its old revision is still wired (another bundle imports from it), and waits
     * for that (bounded). A backend exports nothing, so the framework drops its old revision at the update and no
     * refresh is needed: skipping it keeps a swap's pause short.
     */
    private static void refreshIfPending(BundleContext context, Bundle bundle) throws InterruptedException {
        FrameworkWiring wiring = context.getBundle(0).adapt(FrameworkWiring.class);
        if (!wiring.getRemovalPendingBundles().contains(bundle)) {
            return;
        }
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(List.of(bundle), e -> done.countDown());
        if (!done.await(60, TimeUnit.SECONDS)) {
            LOG.warning("refreshing " + bundle.getSymbolicName() + " did not finish within 60 s");
        }
    }

    // ---- known-good copies ----

    /**
     * Copies the bundle's current revision into a jar, if it is still the revision whose resolvers just came up
     * (its last-modified time did not change while copying). A copy an earlier run of the host took after this
     * revision was installed is kept as it is, so starting the host does not rewrite every backend's jar.
     */
    private void takeKnownGood(Bundle bundle) {
        if (knownGoodDirectory == null) {
            return;
        }
        long modified = bundle.getLastModified();
        Path target = knownGoodDirectory.resolve(bundle.getBundleId() + ".jar");
        try {
            if (Files.isRegularFile(target) && Files.getLastModifiedTime(target).toMillis() >= modified) {
                remember(bundle, target, modified); // kept by an earlier run of the host, after this revision came
                return;
            }
            Files.createDirectories(knownGoodDirectory);
            Path tmp = knownGoodDirectory.resolve(bundle.getBundleId() + ".jar.tmp");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                writeJar(bundle, out);
            }
            if (bundle.getLastModified() != modified || bundle.getState() != Bundle.ACTIVE) {
                Files.deleteIfExists(tmp);
                return; // updated meanwhile: this copy may mix revisions
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            remember(bundle, target, modified);
        } catch (IOException | IllegalStateException e) {
            LOG.log(Level.WARNING, "cannot keep a copy of " + bundle.getSymbolicName() + " to roll back to", e);
        }
    }

    /** {@code copy} holds the revision of {@code bundle} last modified at {@code modified}: the one to roll back to. */
    private synchronized void remember(Bundle bundle, Path copy, long modified) {
        Backend b = backends.get(bundle.getBundleId());
        if (b != null) {
            b.knownGood = copy;
            b.knownGoodModified = modified;
        }
    }

    /** Writes the bundle's entries as a jar, the manifest first (as the framework reads it). */
    static void writeJar(Bundle bundle, OutputStream out) throws IOException {
        URL manifestUrl = bundle.getEntry("META-INF/MANIFEST.MF");
        if (manifestUrl == null) {
            throw new IOException(bundle.getSymbolicName() + " has no manifest");
        }
        Manifest manifest;
        try (InputStream in = manifestUrl.openStream()) {
            manifest = new Manifest(in);
        }
        try (JarOutputStream jar = new JarOutputStream(out, manifest)) {
            Enumeration<URL> entries = bundle.findEntries("/", "*", true);
            while (entries != null && entries.hasMoreElements()) {
                URL url = entries.nextElement();
                String path = url.getPath().startsWith("/") ? url.getPath().substring(1) : url.getPath();
                if (path.isEmpty() || path.equals("META-INF/") || path.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                jar.putNextEntry(new ZipEntry(path));
                if (!path.endsWith("/")) {
                    try (InputStream in = url.openStream()) {
                        in.transferTo(jar);
                    }
                }
                jar.closeEntry();
            }
        }
    }

    private synchronized void record(Bundle bundle, String what) {
        LOG.info(() -> bundle.getSymbolicName() + ": " + what);
        history.addLast(new Event(Instant.now(), bundle.getSymbolicName(), what));
        while (history.size() > HISTORY) {
            history.removeFirst();
        }
    }
}
