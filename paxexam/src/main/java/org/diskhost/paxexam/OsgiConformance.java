package org.diskhost.paxexam;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

import org.diskhost.api.Disk;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.engine.JupiterTestEngine;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.osgi.framework.BundleContext;

/**
 * The testkit's {@link DiskConformance} suite run inside the framework against disks the running host builds from
 * a spec, so that a third party checks its disk kind as users will reach it: through its bundle, the host's
 * resolution and the published {@link Disk} service. Each check gets a fresh disk: a disk configuration named
 * {@code conformance-N} is created, its service awaited, and the configuration deleted after the check (names of
 * this form are the suite's: such disks left by a run that was killed are removed when the next one starts). The suite
 * runs on the JUnit Platform's Jupiter engine inside the framework ({@link DiskhostOptions#host()} installs it).
 *
 * <p>In a Pax Exam (JUnit 4) test:
 *
 * <pre>{@code
 * @Inject BundleContext context;
 *
 * @Test
 * public void myKindConforms() {
 *     OsgiConformance.assertConforms(context,
 *             "{\"kind\": \"mykind\", \"path\": \"${name}.img\", \"size\": \"1 MiB\"}");
 * }
 * }</pre>
 */
public final class OsgiConformance {
    /** Replaced, in a spec template, by the name of the fresh disk: use it to give each disk its own file. */
    public static final String NAME = "${name}";

    /** The names of the fresh disks: PREFIX and a number counted up in this JVM. */
    private static final String PREFIX = "conformance-";

    private static final AtomicLong DISKS = new AtomicLong();

    /** One run at a time: the suite class finds its disk source in {@link #current}. */
    private static final ReentrantLock RUNNING = new ReentrantLock();

    private static volatile DiskSource current;

    private OsgiConformance() {
    }

    /**
     * Runs the suite against disks of {@code specTemplate} (JSON; {@value #NAME} becomes each disk's name), prints
     * the report, and fails as {@link ConformanceReport#assertPassed()} says.
     */
    public static void assertConforms(BundleContext context, String specTemplate) {
        ConformanceReport report = run(context, specTemplate);
        System.out.println(report);
        report.assertPassed();
    }

    /** Runs the suite against disks of {@code specTemplate} ({@value #NAME} becomes each disk's name). */
    public static ConformanceReport run(BundleContext context, String specTemplate) {
        return run(context, specTemplate, name -> specTemplate.replace(NAME, name));
    }

    /**
     * Runs the suite against disks whose spec {@code specs} gives for each fresh disk name.
     *
     * @param subject how the report names what was checked
     */
    public static ConformanceReport run(BundleContext context, String subject, Function<String, String> specs) {
        Collector collector = new Collector();
        RUNNING.lock();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        try {
            HostProbe probe = new HostProbe(context);
            removeLeftovers(probe);
            current = new DiskSource(probe, specs);
            // The engines and listeners are given, not looked up: a service loader inside a bundle finds nothing.
            Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                    .enableTestEngineAutoRegistration(false)
                    .enableLauncherSessionListenerAutoRegistration(false)
                    .enableLauncherDiscoveryListenerAutoRegistration(false)
                    .enablePostDiscoveryFilterAutoRegistration(false)
                    .enableTestExecutionListenerAutoRegistration(false)
                    .addTestEngines(new JupiterTestEngine())
                    .build());
            thread.setContextClassLoader(OsgiConformance.class.getClassLoader());
            launcher.execute(LauncherDiscoveryRequestBuilder.request()
                    .selectors(DiscoverySelectors.selectClass(Suite.class))
                    .enableImplicitConfigurationParameters(false)
                    .configurationParameter("junit.jupiter.execution.parallel.enabled", "false")
                    .build(), collector);
        } finally {
            thread.setContextClassLoader(previous);
            current = null;
            RUNNING.unlock();
        }
        return new ConformanceReport(subject, collector.passed, collector.skipped, collector.failed);
    }

    /**
     * Removes the disks of an earlier run that was killed before it could (runs do not overlap, and each removes
     * its own): Configuration Admin keeps them across framework restarts on the same storage.
     */
    private static void removeLeftovers(HostProbe probe) {
        try {
            for (String name : probe.configuredDisks()) {
                if (name.startsWith(PREFIX) && name.substring(PREFIX.length()).chars().allMatch(Character::isDigit)) {
                    probe.remove(name);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot remove the conformance disks of an earlier run", e);
        }
    }

    /** The suite as the engine runs it: every disk from the run's {@link DiskSource}. */
    static final class Suite extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            return current.open();
        }
    }

    /**
     * Fresh disks from the running host. Once a disk is not published in time, the checks after it fail at once
     * with that reason: the spec will not do better, and waiting for each check would only make the failure slow.
     */
    private static final class DiskSource {
        private final HostProbe probe;
        private final Function<String, String> specs;
        private AssertionError unpublished;

        DiskSource(HostProbe probe, Function<String, String> specs) {
            this.probe = probe;
            this.specs = specs;
        }

        Disk open() throws Exception {
            if (unpublished != null) {
                throw new AssertionError("not waited for: an earlier disk of this spec was not published",
                        unpublished);
            }
            String name = PREFIX + DISKS.incrementAndGet();
            probe.configure(name, specs.apply(name));
            try {
                return Disk.of(new Removed(probe.awaitDisk(name), probe, name));
            } catch (AssertionError e) {
                unpublished = e;
                probe.remove(name);
                throw e;
            }
        }
    }

    /** The host's disk as the suite sees it: closing it removes its configuration, never closes the host's disk. */
    private static final class Removed extends ForwardingDiskIo {
        private final HostProbe probe;
        private final String name;

        Removed(Disk published, HostProbe probe, String name) {
            super(published);
            this.probe = probe;
            this.name = name;
        }

        @Override
        public String diskType() {
            return inner.diskType(); // transparent: the checks see the host's disk
        }

        @Override
        public void close() {
            try {
                probe.remove(name);
            } catch (Exception e) {
                throw new IllegalStateException("cannot remove conformance disk '" + name + "'", e);
            }
        }
    }

    /** Each check's outcome, by the name of its test method. */
    private static final class Collector implements TestExecutionListener {
        final List<String> passed = new ArrayList<>();
        final Map<String, String> skipped = new LinkedHashMap<>();
        final Map<String, Throwable> failed = new LinkedHashMap<>();

        @Override
        public void executionSkipped(TestIdentifier test, String reason) {
            skipped.put(name(test), reason);
        }

        @Override
        public void executionFinished(TestIdentifier test, TestExecutionResult result) {
            switch (result.getStatus()) {
                case SUCCESSFUL -> {
                    if (test.isTest()) {
                        passed.add(name(test));
                    }
                }
                case ABORTED -> skipped.put(name(test), result.getThrowable().map(Throwable::getMessage)
                        .orElse("aborted"));
                case FAILED -> failed.put(test.isTest() ? name(test) : "[" + test.getDisplayName() + "]",
                        result.getThrowable().orElseGet(() -> new AssertionError("failed without a cause")));
            }
        }

        private static String name(TestIdentifier test) {
            return test.getSource().filter(MethodSource.class::isInstance).map(s -> ((MethodSource) s).getMethodName())
                    .orElse(test.getDisplayName());
        }
    }
}
