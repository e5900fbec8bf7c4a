package org.example.diskhost.faults;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import javax.inject.Inject;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.paxexam.DiskhostOptions;
import org.diskhost.paxexam.HostProbe;
import org.diskhost.paxexam.OsgiConformance;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Kind {@code faults} inside a real Felix with diskhost's host, as diskhost-paxexam provisions it: the conformance
 * suite through the host, a runtime change through Configuration Admin, and a hot swap of this bundle that keeps it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FaultsOsgiIT {
    private static final String BSN = "org.example.diskhost.faults";

    @Inject
    private BundleContext context;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    @Configuration
    public Option[] configuration() throws Exception {
        return options(
                workingDirectory("target/paxexam-faults"),
                systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("INFO"),
                DiskhostOptions.mavenOffline(),
                DiskhostOptions.host(),
                DiskhostOptions.backends("file"),
                bundle(Path.of(System.getProperty("faults.bundle")).toUri().toString()),
                DiskhostOptions.dataDirectory(Files.createTempDirectory("faults-osgi")),
                junitBundles());
    }

    @Test
    public void conformsWithNoFaultActive() {
        OsgiConformance.assertConforms(context, """
                {"kind": "faults", "rate": 0, "disk": {"kind": "file", "path": "${name}.img", "create": "1 MiB"}}""");
    }

    @Test
    public void aRuntimeChangeThroughConfigurationAdminSurvivesAHotSwapOfTheBundle() throws Exception {
        HostProbe probe = new HostProbe(context);
        probe.configure("flaky", """
                {"kind": "faults", "ops": "read", "rate": 0, "from": 8, "count": 8,
                 "disk": {"kind": "file", "path": "flaky.img", "create": "1 MiB"}}""");
        Disk disk = probe.awaitDisk("flaky");
        assertEquals(null, error(disk, 8));

        org.osgi.service.cm.Configuration change = configurationAdmin.getFactoryConfiguration(
                FaultsComponent.FACTORY_PID, "flaky", "?");
        change.update(new Hashtable<>(java.util.Map.of("rate", "1", "error", "medium")));
        awaitError(disk, 8, DiskError.MediumError.class);
        assertEquals(null, error(disk, 16));

        // Update the bundle from its jar while a reader reads outside the range: its reads wait for the swap and
        // complete on the new version; none fails.
        Bundle faults = Arrays.stream(context.getBundles()).filter(b -> b.getSymbolicName().equals(BSN)).findFirst()
                .orElseThrow();
        AtomicBoolean swapped = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            while (!swapped.get() && failure.get() == null) {
                try {
                    read(disk, 16 + reads.get() % 32).get(30, TimeUnit.SECONDS);
                    reads.incrementAndGet();
                } catch (Exception e) {
                    failure.set(e);
                }
            }
        });
        Thread.sleep(200);
        try (InputStream jar = Files.newInputStream(Path.of(System.getProperty("faults.bundle")))) {
            faults.update(jar);
        }
        System.out.println(probe.awaitShell("flaky: READY, 1 swaps", "swaps", "flaky"));
        Thread.sleep(200);
        swapped.set(true);
        reader.join();
        assertEquals(null, failure.get());
        assertTrue(reads.get() + " reads", reads.get() > 0);
        assertEquals(Bundle.ACTIVE, faults.getState());
        // The new version took over the change (handed over, then redelivered by Configuration Admin).
        assertEquals(DiskError.MediumError.class, error(disk, 8));
        assertEquals(null, error(disk, 16));
        String inspect = probe.shell("inspect", "flaky");
        assertTrue(inspect, inspect.contains("faults_from") && inspect.contains(FaultsComponent.FACTORY_PID + "~flaky"));

        change.delete();
        awaitError(disk, 8, null);
        probe.remove("flaky");
    }

    private static CompletableFuture<Void> read(Disk disk, long sector) {
        return disk.readVectored(RequestBuffers.of(allocate(512), true), sector);
    }

    /** The error class a read of {@code sector} fails with, or null if it succeeds. */
    private static Class<?> error(Disk disk, long sector) {
        try {
            read(disk, sector).get(30, TimeUnit.SECONDS);
            return null;
        } catch (Exception e) {
            return DiskError.of(e).getClass();
        }
    }

    /** Configuration Admin delivers changes asynchronously: waits until a read of {@code sector} gives {@code expected}. */
    private static void awaitError(Disk disk, long sector, Class<?> expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Class<?> got;
        while ((got = error(disk, sector)) != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("a read of sector " + sector + " gave " + got + ", expected " + expected);
            }
            Thread.sleep(50);
        }
    }
}
