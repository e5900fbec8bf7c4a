package org.diskhost.itests;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.File;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.ops4j.pax.exam.CoreOptions;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * What the Pax Exam tests of the host share: the framework they run (SCR, Configuration Admin, the API, the host
 * core and the backends a test names, all from the jars of this build), and helpers to configure disks, wait for
 * them, run the host's shell commands and do I/O. A test class extends this, runs with {@code PaxExam} and returns
 * {@link #hostOptions} from its {@code @Configuration} method. This class is in the probe bundle with the tests.
 */
public abstract class HostTestSupport {
    /** The factory PID of disk configurations. */
    private static final String DISK_PID = "org.diskhost.disk";

    private static final long TIMEOUT_SECONDS = 30;

    @Inject
    protected BundleContext context;

    @Inject
    protected ConfigurationAdmin configurationAdmin;

    /**
     * The framework for one test class: its working directory {@code target/paxexam-NAME}, a fresh data directory,
     * the OSGi runtime, {@code diskhost-api}, the given backend jars (names in {@code target/bundles} without
     * {@code .jar}, installed in this order) and {@code diskhost-host-core}.
     */
    protected static Option[] hostOptions(String name, String... backends) throws Exception {
        String bundles = System.getProperty("diskhost.bundles");
        Path data = Files.createTempDirectory("diskhost-" + name + "-it");
        List<Option> options = new ArrayList<>(List.of(
                workingDirectory("target/paxexam-" + name),
                systemProperty("diskhost.bundles").value(bundles),
                frameworkProperty("diskhost.data").value(data.toString()),
                frameworkProperty("diskhost.waitTimeout").value("20s")));
        for (String jar : List.of("org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component",
                "org.apache.felix.scr", "org.apache.felix.configadmin", "diskhost-api")) {
            options.add(jar(bundles, jar));
        }
        for (String jar : backends) {
            options.add(jar(bundles, jar));
        }
        options.add(jar(bundles, "diskhost-host-core"));
        options.add(junitBundles());
        return options.toArray(Option[]::new);
    }

    private static Option jar(String directory, String name) {
        return CoreOptions.bundle(new File(directory, name + ".jar").toURI().toString());
    }

    protected Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    /**
     * Updates bundle {@code symbolicName} from {@code jar} of this build (as in {@link #hostOptions}) and refreshes
     * it; returns when the refresh is done.
     */
    protected void updateFromBuild(String symbolicName, String jar) throws Exception {
        Bundle bundle = bundle(symbolicName);
        try (InputStream in = Files.newInputStream(Path.of(System.getProperty("diskhost.bundles"), jar + ".jar"))) {
            bundle.update(in);
        }
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(bundle), e -> refreshed.countDown());
        assertTrue("the refresh of " + symbolicName + " finished", refreshed.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
    }

    /** The host's data directory: relative paths in specs resolve against it. */
    protected Path dataDirectory() {
        return Path.of(context.getProperty("diskhost.data"));
    }

    /** Creates or updates the disk {@code name} with a spec given as JSON, as the host's config file would. */
    protected void configure(String name, String specJson) throws Exception {
        org.osgi.service.cm.Configuration c = configurationAdmin.getFactoryConfiguration(DISK_PID, name, "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("diskhost.name", name);
        properties.put("diskhost.spec", specJson);
        c.update(properties);
    }

    /** The published disk {@code name}, waiting up to 30 s for it. */
    protected Disk awaitDisk(String name) throws Exception {
        ServiceTracker<Disk, Disk> tracker = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + Disk.class.getName() + ")(diskhost.name=" + name + "))"),
                null);
        tracker.open();
        try {
            Disk disk = tracker.waitForService(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            assertNotNull("disk '" + name + "' was not published within " + TIMEOUT_SECONDS + " s; host says:\n"
                    + shell("disks"), disk);
            return disk;
        } finally {
            tracker.close();
        }
    }

    /** Runs a diskhost shell command through its command service, as Gogo would. */
    protected String shell(String function, Object... args) throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences((String) null,
                "(&(osgi.command.scope=diskhost)(osgi.command.function=" + function + "))");
        assertNotNull("a diskhost shell command " + function + " is registered", refs);
        Object commands = context.getService(refs[0]);
        for (var method : commands.getClass().getMethods()) {
            if (method.getName().equals(function) && method.getParameterCount() == args.length) {
                return (String) method.invoke(commands, args);
            }
        }
        throw new AssertionError("no command " + function + "/" + args.length);
    }

    /** Runs a shell command until its output contains {@code expected} (up to 30 s); returns that output. */
    protected String awaitShell(String expected, String function, Object... args) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        String out;
        do {
            out = shell(function, args);
            if (out.contains(expected)) {
                return out;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected \"" + expected + "\" in:\n" + out);
    }

    /** Page-aligned test data; unlike a plain counter it does not repeat every 256 bytes, so misplaced data shows. */
    protected static MemorySegment pattern(int length, int seed) {
        MemorySegment s = Arena.ofAuto().allocate(length, 4096);
        for (int i = 0; i < length; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed + i / 4093));
        }
        return s;
    }

    /** Reads {@code bytes} from {@code sector} on, waiting up to 30 s. */
    protected static byte[] read(Disk disk, long sector, int bytes) throws Exception {
        MemorySegment into = Arena.ofAuto().allocate(bytes, 4096);
        disk.readVectored(RequestBuffers.of(into, true), sector).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return into.toArray(ValueLayout.JAVA_BYTE);
    }
}
