package org.diskhost.itests;

import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.paxexam.DiskhostOptions;
import org.diskhost.paxexam.HostProbe;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * What the Pax Exam tests of the host share: the framework they run ({@link DiskhostOptions}: the host and the
 * backends a test names, all from the jars of this build), and helpers ({@link HostProbe}'s) to configure disks,
 * wait for them, run the host's shell commands and do I/O. A test class extends this, runs with {@code PaxExam}
 * and returns {@link #hostOptions} from its {@code @Configuration} method. This class is in the probe bundle with the tests.
 */
public abstract class HostTestSupport {
    private static final long TIMEOUT_SECONDS = 30;

    @Inject
    protected BundleContext context;

    @Inject
    protected ConfigurationAdmin configurationAdmin;

    /**
     * The framework for one test class: its working directory {@code target/paxexam-NAME}, a fresh data directory,
     * {@link DiskhostOptions#host()} and the given {@linkplain DiskhostOptions#backends backends} (such as
     * {@code "file"}), all from the jars of this build ({@value DiskhostOptions#BUNDLES_PROPERTY}).
     */
    protected static Option[] hostOptions(String name, String... backends) throws Exception {
        return options(
                workingDirectory("target/paxexam-" + name),
                systemProperty(DiskhostOptions.BUNDLES_PROPERTY)
                        .value(System.getProperty(DiskhostOptions.BUNDLES_PROPERTY)),
                DiskhostOptions.dataDirectory(Files.createTempDirectory("diskhost-" + name + "-it")),
                frameworkProperty("diskhost.waitTimeout").value("20s"),
                DiskhostOptions.host(),
                DiskhostOptions.backends(backends),
                junitBundles());
    }

    /**
     * {@link #hostOptions} with the NBD server on a free loopback port and on the unix socket {@code nbd.sock} in the
     * data directory.
     */
    protected static Option[] hostOptionsWithNbd(String name, String... backends) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        return OptionUtils.combine(hostOptions(name, backends), DiskhostOptions.nbd("127.0.0.1:" + port, "nbd.sock"));
    }

    /** The host as the probe sees it: configure disks, await them, run shell commands. */
    protected HostProbe host() {
        return new HostProbe(context);
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
        return host().dataDirectory();
    }

    /** Creates or updates the disk {@code name} with a spec given as JSON, as the host's config file would. */
    protected void configure(String name, String specJson) throws Exception {
        host().configure(name, specJson);
    }

    /** The published disk {@code name}, waiting up to 30 s for it. */
    protected Disk awaitDisk(String name) throws Exception {
        return host().awaitDisk(name);
    }

    /** Runs a diskhost shell command through its command service, as Gogo would. */
    protected String shell(String function, Object... args) throws Exception {
        return host().shell(function, args);
    }

    /** Runs a shell command until its output contains {@code expected} (up to 30 s); returns that output. */
    protected String awaitShell(String expected, String function, Object... args) throws Exception {
        return host().awaitShell(expected, function, args);
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
