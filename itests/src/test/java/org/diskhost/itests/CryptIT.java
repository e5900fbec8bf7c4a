package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.File;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/** The crypt bundle in a real Felix framework, decorating file disks that the host builds from configuration. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CryptIT {
    private static final String FACTORY_PID = "org.diskhost.disk";
    /** A test key, 0x00..0x3f, and its hex form. */
    private static final String KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
            + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

    @Inject
    private BundleContext context;

    @Inject
    private ConfigurationAdmin configurationAdmin;

    @Configuration
    public Option[] config() throws Exception {
        String bundles = System.getProperty("diskhost.bundles");
        Path data = Files.createTempDirectory("diskhost-crypt-it");
        return options(
                workingDirectory("target/paxexam"),
                systemProperty("diskhost.bundles").value(bundles),
                frameworkProperty("diskhost.data").value(data.toString()),
                frameworkProperty("diskhost.waitTimeout").value("20s"),
                jar(bundles, "org.osgi.util.function"),
                jar(bundles, "org.osgi.util.promise"),
                jar(bundles, "org.osgi.service.component"),
                jar(bundles, "org.apache.felix.scr"),
                jar(bundles, "org.apache.felix.configadmin"),
                jar(bundles, "diskhost-api"),
                jar(bundles, "diskhost-backend-file"),
                jar(bundles, "diskhost-backend-crypt"),
                jar(bundles, "diskhost-host-core"),
                junitBundles());
    }

    private static Option jar(String directory, String name) {
        return org.ops4j.pax.exam.CoreOptions.bundle(new File(directory, name + ".jar").toURI().toString());
    }

    private Bundle bundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new AssertionError("bundle " + symbolicName + " is not installed"));
    }

    private void configure(String name, String specJson) throws Exception {
        org.osgi.service.cm.Configuration c = configurationAdmin.getFactoryConfiguration(FACTORY_PID, name, "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("diskhost.name", name);
        properties.put("diskhost.spec", specJson);
        c.update(properties);
    }

    private static String cryptOverFile(String key, String file) {
        return "{\"kind\": \"crypt\", \"key\": \"" + key + "\", "
                + "\"disk\": {\"kind\": \"file\", \"path\": \"" + file + "\", \"create\": \"1 MiB\"}}";
    }

    private Disk awaitDisk(String name) throws Exception {
        ServiceTracker<Disk, Disk> tracker = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + Disk.class.getName() + ")(diskhost.name=" + name + "))"),
                null);
        tracker.open();
        try {
            Disk disk = tracker.waitForService(30_000);
            assertNotNull("disk '" + name + "' was not published within 30 s; host says:\n" + shell("disks"), disk);
            return disk;
        } finally {
            tracker.close();
        }
    }

    /** Runs a diskhost shell command through the command service, as Gogo would. */
    private String shell(String function, Object... args) throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences((String) null, "(osgi.command.scope=diskhost)");
        assertNotNull("the diskhost shell commands are registered", refs);
        Object commands = context.getService(refs[0]);
        for (var method : commands.getClass().getMethods()) {
            if (method.getName().equals(function) && method.getParameterCount() == args.length) {
                return (String) method.invoke(commands, args);
            }
        }
        throw new AssertionError("no command " + function + "/" + args.length);
    }

    private String awaitShell(String expected, String function, Object... args) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String out;
        do {
            out = shell(function, args);
            if (out.contains(expected)) {
                return out;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected \"" + expected + "\" in:\n" + out);
    }

    private static MemorySegment pattern(int length, int seed) {
        MemorySegment s = Arena.ofAuto().allocate(length, 4096);
        for (int i = 0; i < length; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        }
        return s;
    }

    private static byte[] read(Disk disk, long sector, int bytes) throws Exception {
        MemorySegment into = Arena.ofAuto().allocate(bytes, 4096);
        disk.readVectored(RequestBuffers.of(into, true), sector).get(30, TimeUnit.SECONDS);
        return into.toArray(ValueLayout.JAVA_BYTE);
    }

    private byte[] fileBytes(String file, long offset, int length) throws Exception {
        byte[] all = Files.readAllBytes(Path.of(context.getProperty("diskhost.data")).resolve(file));
        return Arrays.copyOfRange(all, (int) offset, (int) offset + length);
    }

    private static void assertNoKey(String text) {
        for (int i = 0; i + 16 <= KEY.length(); i += 16) {
            assertFalse("key material in:\n" + text, text.toLowerCase().contains(KEY.substring(i, i + 16)));
        }
    }

    @Test
    public void theCryptBundleIsActiveAndProvidesItsKind() throws Exception {
        assertEquals(Bundle.ACTIVE, bundle("org.diskhost.backend.crypt").getState());
        assertTrue(shell("kinds"), List.of(shell("kinds").trim().split(" ")).contains("crypt"));
    }

    @Test
    public void aCryptDiskOverAFileStoresCiphertextAndReadsBackThePlaintext() throws Exception {
        configure("it-crypt", cryptOverFile(KEY, "it-crypt.img"));
        Disk disk = awaitDisk("it-crypt");
        MemorySegment data = pattern(4096, 5);
        disk.writeVectored(RequestBuffers.of(data, false), 10, true).get(30, TimeUnit.SECONDS);
        byte[] plaintext = data.toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(plaintext, read(disk, 10, 4096));
        byte[] stored = fileBytes("it-crypt.img", 10 * 512, 4096);
        assertFalse("the file must hold ciphertext", Arrays.equals(plaintext, stored));
        assertFalse("the file must hold ciphertext", Arrays.equals(new byte[4096], stored));

        String inspect = shell("inspect", "it-crypt");
        assertTrue(inspect, inspect.contains("cipher: xts-aes-256"));
        assertTrue(inspect, inspect.contains("state: READY"));
        assertNoKey(inspect);
        String disks = shell("disks");
        assertTrue(disks, disks.contains("crypt > file"));
        assertNoKey(disks);
    }

    @Test
    public void aBadKeyIsReportedByNameWithoutKeyMaterial() throws Exception {
        configure("it-crypt-short-key", cryptOverFile(KEY.substring(0, 64), "it-short.img"));
        String disks = awaitShell("it-crypt-short-key', kind 'crypt'", "disks");
        assertTrue(disks, disks.contains("disk 'it-crypt-short-key', kind 'crypt', setting 'key': must be 64 bytes "
                + "(the data key, then the tweak key), got 32 bytes"));
        assertNoKey(disks);
        assertFalse("the file below was never created",
                Files.exists(Path.of(context.getProperty("diskhost.data")).resolve("it-short.img")));
    }

    /** Updating the crypt bundle rebuilds the chain on the new bundle; the data reads back unchanged. */
    @Test
    public void updatingTheCryptBundleRebuildsTheChainWithTheDataIntact() throws Exception {
        configure("it-crypt-swap", cryptOverFile(KEY, "it-crypt-swap.img"));
        Disk disk = awaitDisk("it-crypt-swap");
        MemorySegment data = pattern(64 * 1024, 9);
        disk.writeVectored(RequestBuffers.of(data, false), 0, false).get(30, TimeUnit.SECONDS);

        Bundle crypt = bundle("org.diskhost.backend.crypt");
        try (InputStream in = Files.newInputStream(Path.of(System.getProperty("diskhost.bundles"),
                "diskhost-backend-crypt.jar"))) {
            crypt.update(in);
        }
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(crypt), e -> refreshed.countDown());
        assertTrue(refreshed.await(30, TimeUnit.SECONDS));

        // Issued while the chain may still be rebuilding: the request waits for it, then succeeds.
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, 0, 64 * 1024));
        String inspect = awaitShell("state: READY", "inspect", "it-crypt-swap");
        assertFalse(inspect, inspect.contains("chain_builds: 1\n"));
    }
}
