package org.diskhost.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.diskhost.api.Disk;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.api.pr.ReservationReport;
import org.diskhost.api.pr.ReservationType;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

/**
 * Hot swap under load: every bundle of a prwrap → crypt → delay → layered(RAM over file) chain is updated again and
 * again while writers and readers check their data; broken new versions are rolled back while the I/O goes on.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SwapIT extends HostTestSupport {
    private static final String KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            + "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    private static final int ROUNDS = 20;
    /** The chain's bundles, by symbolic name and build jar. */
    private static final List<String[]> CHAIN_BUNDLES = List.of(
            new String[] {"org.diskhost.backend.prwrap", "diskhost-backend-prwrap"},
            new String[] {"org.diskhost.backend.crypt", "diskhost-backend-crypt"},
            new String[] {"org.diskhost.backend.delay", "diskhost-backend-delay"},
            new String[] {"org.diskhost.backend.layered", "diskhost-backend-layered"},
            new String[] {"org.diskhost.backend.file", "diskhost-backend-file"});

    @Configuration
    public Option[] config() throws Exception {
        List<Option> options = new ArrayList<>(List.of(hostOptions("swap", "file", "crypt", "delay", "layered",
                "prwrap")));
        options.add(frameworkProperty("diskhost.swapTimeout").value("3s"));
        return options.toArray(Option[]::new);
    }

    /** The chain over a new 16 MiB file {@code NAME.img} (the disk below a RAM layer is opened read-only). */
    private String chain(String name) throws java.io.IOException {
        try (var file = java.nio.channels.FileChannel.open(dataDirectory().resolve(name + ".img"),
                java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            file.truncate(0).write(java.nio.ByteBuffer.allocate(1), 16 * 1024 * 1024 - 1);
        }
        return "{\"kind\": \"prwrap\", \"disk\": {\"kind\": \"crypt\", \"key\": \"" + KEY + "\", \"disk\": "
                + "{\"kind\": \"delay\", \"readDelay\": \"100us\", \"writeDelay\": \"200us\", \"disk\": "
                + "{\"kind\": \"layered\", \"layers\": [{\"kind\": \"ram\"}, "
                + "{\"kind\": \"disk\", \"disk\": {\"kind\": \"file\", \"path\": \"" + name + ".img\"}}]}}}}";
    }

    private static Path buildJar(String jar) {
        return Path.of(System.getProperty("diskhost.bundles"), jar + ".jar");
    }

    /**
     * 20 rounds of updating each of the five bundles of the chain, alternating the host's {@code upgrade} command
     * (stop, update, refresh, start) and a plain {@code Bundle.update} (the framework restarts the bundle), under
     * three writers and two readers: no request fails, no data is wrong, the RAM layer keeps every write (the file
     * below it stays empty) and the reservation is the same.
     */
    @Test
    public void everyBundleOfTheChainIsUpdatedTwentyTimesUnderVerifiedLoad() throws Exception {
        configure("swap", chain("swap"));
        Disk disk = awaitDisk("swap");
        PersistentReservation pr = disk.pr().orElseThrow();
        pr.register(OptionalLong.empty(), 0x5157, Optional.of(true)).get(30, TimeUnit.SECONDS);
        pr.reserve(0x5157, ReservationType.WRITE_EXCLUSIVE).get(30, TimeUnit.SECONDS);
        ReservationReport reservations = pr.report().get(30, TimeUnit.SECONDS);

        int swaps = 0;
        VerifiedLoad load = new VerifiedLoad(disk, 0, 3, 256, 2);
        try {
            Thread.sleep(300);
            for (int round = 0; round < ROUNDS; round++) {
                for (String[] b : CHAIN_BUNDLES) {
                    long before = load.writes() + load.reads();
                    if (round % 2 == 0) {
                        String out = shell("upgrade", b[0], buildJar(b[1]).toString());
                        assertTrue(out + shell("swaps"), out.contains("back after"));
                    } else {
                        try (InputStream in = Files.newInputStream(buildJar(b[1]))) {
                            bundle(b[0]).update(in);
                        }
                    }
                    swaps++;
                    awaitProgress(load, before);
                    assertEquals(load.failures().toString(), List.of(), load.failures());
                }
            }
            Thread.sleep(200);
        } finally {
            load.close();
            System.out.println(shell("swaps", "swap"));
        }
        assertEquals(List.of(), load.failures());
        assertEquals("every block holds its last committed version", List.of(), load.verifyAll());
        assertTrue("writes " + load.writes() + ", reads " + load.reads(), load.writes() > 1000 && load.reads() > 1000);
        String report = shell("swaps", "swap");
        assertTrue(report, report.contains("swap: READY, "));
        assertTrue(report, Long.parseLong(report.replaceAll("(?s).*READY, (\\d+) swaps.*", "$1")) >= swaps);
        assertTrue(report, report.contains("prwrap/0:crypt/0:delay/0:layered/0:ram"));
        assertTrue(report, report.contains("org.diskhost.backend.layered"));
        assertTrue(report, report.contains("revision " + ROUNDS));

        assertEquals(reservations, disk.pr().orElseThrow().report().get(30, TimeUnit.SECONDS));
        byte[] file = Files.readAllBytes(dataDirectory().resolve("swap.img"));
        for (byte b : file) {
            if (b != 0) {
                throw new AssertionError("a write reached the file below the RAM layer");
            }
        }
    }

    /** Waits until the load has made some progress (bounded), so each swap happens under load. */
    private static void awaitProgress(VerifiedLoad load, long before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (load.writes() + load.reads() < before + 20 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue("I/O went on after the swap", load.writes() + load.reads() >= before + 20);
    }

    /** A copy of a build jar with its manifest changed by {@code edit}. */
    private Path brokenCopy(String jar, String name, java.util.function.Consumer<Attributes> edit) throws Exception {
        Path broken = dataDirectory().resolve(name + ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(buildJar(jar)))) {
            Manifest manifest = new Manifest(in.getManifest());
            edit.accept(manifest.getMainAttributes());
            try (OutputStream out = Files.newOutputStream(broken);
                    JarOutputStream jarOut = new JarOutputStream(out, manifest)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    jarOut.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(jarOut);
                    jarOut.closeEntry();
                }
            }
        }
        return broken;
    }

    /**
     * A new delay bundle that cannot resolve (it imports a package nobody exports), and one that starts but
     * registers no resolver (its components are gone): each is rolled back to the last revision that worked while
     * the load goes on, and the disk's data and the other disk are untouched.
     */
    @Test
    public void brokenNewVersionsAreRolledBackWhileIoContinues() throws Exception {
        configure("rollback", chain("rollback"));
        configure("bystander", "{\"kind\": \"file\", \"path\": \"bystander.img\", \"create\": \"1 MiB\"}");
        Disk disk = awaitDisk("rollback");
        Disk bystander = awaitDisk("bystander");
        awaitShell("org.diskhost.backend.delay", "swaps", "rollback");
        Thread.sleep(500); // the host keeps a copy of each working bundle shortly after it comes up

        Path unresolvable = brokenCopy("diskhost-backend-delay", "delay-unresolvable", a -> a.putValue(
                "Import-Package", a.getValue("Import-Package") + ",org.diskhost.does.not.exist"));
        Path noResolver = brokenCopy("diskhost-backend-delay", "delay-no-resolver", a -> a.remove(
                new Attributes.Name("Service-Component")));
        try (VerifiedLoad load = new VerifiedLoad(disk, 0, 2, 128, 2)) {
            Thread.sleep(200);
            long before = load.writes() + load.reads();
            String out = shell("upgrade", "org.diskhost.backend.delay", unresolvable.toString());
            assertTrue(out, out.contains("rolling back") && out.contains("rolled back"));
            awaitProgress(load, before);

            before = load.writes() + load.reads();
            try (InputStream in = Files.newInputStream(noResolver)) {
                bundle("org.diskhost.backend.delay").update(in);
            }
            String history = awaitShell("no resolver for delay within 3000 ms", "swaps");
            awaitShell("rolled back", "swaps");
            awaitProgress(load, before);
            assertEquals(load.failures().toString(), List.of(), load.failures());
            bystander.readVectored(org.diskhost.api.buffers.RequestBuffers.of(pattern(512, 0), true), 0)
                    .get(5, TimeUnit.SECONDS);
            System.out.println(history);
        }
        assertEquals(Bundle.ACTIVE, bundle("org.diskhost.backend.delay").getState());
        assertNotNull(bundle("org.diskhost.backend.delay").getHeaders().get("Service-Component"));
        String inspect = shell("inspect", "rollback");
        assertTrue(inspect, inspect.contains("state: READY"));
    }

    /**
     * Without a copy to roll back to, a broken update fails the requests that wait for its kinds with an Io error
     * that says why; the disk comes back when a working version is installed.
     */
    @Test
    public void withoutACopyToRollBackToTheWaitingRequestsFailWithTheReason() throws Exception {
        configure("norollback", "{\"kind\": \"delay\", \"disk\": {\"kind\": \"file\", \"path\": "
                + "\"norollback.img\", \"create\": \"1 MiB\"}}");
        Disk disk = awaitDisk("norollback");
        Thread.sleep(500); // the copy is taken shortly after the bundle comes up: let it be, then remove it
        String storage = context.getProperty("org.osgi.framework.storage");
        Path root = Path.of(storage == null ? "felix-cache" : storage);
        List<Path> copies;
        try (var files = Files.walk(root)) {
            copies = files.filter(f -> f.getParent() != null && f.getParent().getFileName().toString()
                    .equals("known-good")).toList();
        }
        assertTrue("the host keeps copies under " + root, !copies.isEmpty());
        for (Path copy : copies) {
            Files.delete(copy);
        }
        Path unresolvable = brokenCopy("diskhost-backend-delay", "delay-gone", a -> a.putValue(
                "Import-Package", a.getValue("Import-Package") + ",org.diskhost.does.not.exist"));
        String out = shell("upgrade", "org.diskhost.backend.delay", unresolvable.toString());
        assertTrue(out, out.contains("rolling back"));
        awaitShell("the rollback failed", "swaps");
        try {
            disk.readVectored(org.diskhost.api.buffers.RequestBuffers.of(pattern(512, 0), true), 0)
                    .get(10, TimeUnit.SECONDS);
            throw new AssertionError("a read succeeded without a backend");
        } catch (java.util.concurrent.ExecutionException e) {
            org.diskhost.api.DiskError error = org.diskhost.api.DiskError.of(e);
            assertTrue(String.valueOf(error), error instanceof org.diskhost.api.DiskError.Io io
                    && io.cause().getMessage().contains("org.diskhost.backend.delay did not come up"));
        }
        assertTrue(shell("disks"), shell("disks").contains("requests fail until it comes"));

        String back = shell("upgrade", "org.diskhost.backend.delay", buildJar("diskhost-backend-delay").toString());
        assertTrue(back, back.contains("back after"));
        awaitShell("norollback       READY", "disks");
        disk.readVectored(org.diskhost.api.buffers.RequestBuffers.of(pattern(512, 0), true), 0)
                .get(10, TimeUnit.SECONDS);
    }
}
