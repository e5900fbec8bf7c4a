package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

/** The crypt bundle in a real Felix framework, decorating file disks that the host builds from configuration. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CryptIT extends HostTestSupport {
    /** A test key, 0x00..0x3f, and its hex form. */
    private static final String KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
            + "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("crypt", "file", "striped", "crypt");
    }

    private static String cryptOverFile(String key, String file) {
        return "{\"kind\": \"crypt\", \"key\": \"" + key + "\", "
                + "\"disk\": {\"kind\": \"file\", \"path\": \"" + file + "\", \"create\": \"1 MiB\"}}";
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

        updateFromBuild("org.diskhost.backend.crypt", "diskhost-backend-crypt");

        // Issued while the chain may still be rebuilding: the request waits for it, then succeeds.
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, 0, 64 * 1024));
        String inspect = awaitShell("state: READY", "inspect", "it-crypt-swap");
        assertFalse(inspect, inspect.contains("chain_builds: 1\n"));
    }

    /**
     * The chain of the issue: crypt over striped over two files, from configuration. The plaintext reads back, and
     * each member file holds, chunk by chunk, the XTS ciphertext of the stripe's sectors: encrypting the plaintext
     * with a second crypt disk over a plain in-memory layout gives the same bytes.
     */
    @Test
    public void cryptOverStripedOverTwoFilesRoundTripsAndStripesTheCiphertext() throws Exception {
        configure("it-crypt-striped", "{\"kind\": \"crypt\", \"key\": \"" + KEY + "\", \"disk\": "
                + "{\"kind\": \"striped\", \"chunkSize\": \"64 KiB\", \"members\": ["
                + "{\"kind\": \"file\", \"path\": \"stripe0.img\", \"create\": \"1 MiB\"},"
                + "{\"kind\": \"file\", \"path\": \"stripe1.img\", \"create\": \"1 MiB\"}]}}");
        configure("it-plain-stripe", "{\"kind\": \"crypt\", \"key\": \"" + KEY + "\", "
                + "\"disk\": {\"kind\": \"file\", \"path\": \"reference.img\", \"create\": \"2 MiB\"}}");
        Disk disk = awaitDisk("it-crypt-striped");
        Disk reference = awaitDisk("it-plain-stripe");
        assertEquals(4096, disk.sectorCount());
        assertTrue(shell("disks"), shell("disks").contains("crypt > striped"));

        MemorySegment data = pattern(512 * 1024, 21); // 8 chunks from sector 100: crosses both members, unaligned
        disk.writeVectored(RequestBuffers.of(data, false), 100, true).get(30, TimeUnit.SECONDS);
        reference.writeVectored(RequestBuffers.of(data, false), 100, true).get(30, TimeUnit.SECONDS);
        assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), read(disk, 100, 512 * 1024));

        // The same key and sector numbers give the same ciphertext; the stripe deals it out in 64 KiB chunks.
        byte[] ciphertext = fileBytes("reference.img", 0, 2 << 20);
        byte[][] members = {fileBytes("stripe0.img", 0, 1 << 20), fileBytes("stripe1.img", 0, 1 << 20)};
        int chunk = 64 * 1024;
        for (int c = 0; c < 32; c++) {
            byte[] expected = Arrays.copyOfRange(ciphertext, c * chunk, (c + 1) * chunk);
            byte[] actual = Arrays.copyOfRange(members[c % 2], (c / 2) * chunk, (c / 2 + 1) * chunk);
            assertArrayEquals("chunk " + c + " on member " + (c % 2), expected, actual);
        }
        assertFalse("the members hold ciphertext", Arrays.equals(data.toArray(ValueLayout.JAVA_BYTE),
                Arrays.copyOfRange(members[0], 100 * 512, 100 * 512 + 4096)));
    }
}
