package org.diskhost.itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.diskhost.api.Disk;
import org.diskhost.testkit.Azurite;
import org.diskhost.testkit.ExternalTools;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The {@code blob} bundle in a real framework over an Azure page blob in Azurite, configured at run time and served
 * over NBD: {@code nbdinfo --map} and {@code qemu-img map} see the page blob's holes (Get Page Ranges), qemu-io writes
 * and discards land in the blob as the Azure SDK reads it back, and a second writer of the blob is refused.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AzureBlobIT extends HostTestSupport {
    private static final int MiB = 1 << 20;
    private static final String C = "itest";

    @Configuration
    public Option[] config() throws Exception {
        return hostOptionsWithNbd("blob-azure", "blob");
    }

    /** {@code nbdinfo --map}: "offset length zero?" per extent, touching extents of the same kind merged. */
    private static List<String> map(Path dir, String uri) throws Exception {
        List<long[]> extents = new ArrayList<>();
        for (String line : ExternalTools.ok(dir, "nbdinfo", "--map", uri).strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            long[] e = {Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2]) & 2};
            long[] last = extents.isEmpty() ? null : extents.getLast();
            if (last != null && last[2] == e[2] && last[0] + last[1] == e[0]) {
                last[1] += e[1];
            } else {
                extents.add(e);
            }
        }
        return extents.stream().map(e -> e[0] + " " + e[1] + (e[2] != 0 ? " zero" : " data")).toList();
    }

    @Test
    public void aPageBlobIsServedOverNbdWithItsHoles() throws Exception {
        Path dir = dataDirectory();
        try (Azurite azurite = Azurite.start(Files.createDirectories(dir.resolve("azurite")))) {
            azurite.createContainer(C);
            azurite.createPageBlob(C, "disk.vhd", 64L * MiB);
            byte[] head = pattern(MiB, 1).toArray(ValueLayout.JAVA_BYTE);
            byte[] middle = pattern(256 * 1024, 2).toArray(ValueLayout.JAVA_BYTE);
            azurite.putPages(C, "disk.vhd", 0, head);
            azurite.putPages(C, "disk.vhd", 32L * MiB, middle);

            configure("azpage", "{\"kind\": \"blob\", \"url\": \"" + azurite.blob(C, "disk.vhd") + "\", "
                    + "\"accountKey\": \"" + Azurite.KEY + "\", \"readOnly\": false}");
            Disk disk = awaitDisk("azpage");
            assertEquals(64L * MiB / 512, disk.sectorCount());
            String uri = "nbd+unix:///azpage?socket=" + dir.resolve("nbd.sock");
            ExternalTools.await(dir, "qemu-img", "info", uri);

            assertEquals(List.of("0 " + MiB + " data", MiB + " " + 31 * MiB + " zero",
                    32 * MiB + " " + 256 * 1024 + " data", (32 * MiB + 256 * 1024) + " " + (32 * MiB - 256 * 1024)
                            + " zero"), map(dir, uri));
            String qemuMap = ExternalTools.ok(dir, "qemu-img", "map", "--output=json", "-f", "raw", uri);
            assertTrue(qemuMap, qemuMap.contains("\"start\": 1048576, \"length\": 32505856, \"depth\": 0, "
                    + "\"present\": true, \"zero\": true, \"data\": false"));

            // Writes and discards through NBD reach the blob as another client sees it.
            ExternalTools.ok(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x5c 8M 64k", "-c", "discard 0 512k", uri);
            byte[] expected = new byte[64 * 1024];
            java.util.Arrays.fill(expected, (byte) 0x5c);
            assertArrayEquals(expected, azurite.read(C, "disk.vhd", 8L * MiB, 64 * 1024));
            assertArrayEquals(new byte[512 * 1024], azurite.read(C, "disk.vhd", 0, 512 * 1024));
            assertEquals(List.of("0 " + 512 * 1024 + " zero", 512 * 1024 + " " + 512 * 1024 + " data",
                    MiB + " " + 7 * MiB + " zero", 8 * MiB + " " + 64 * 1024 + " data"),
                    map(dir, uri).subList(0, 4));
            assertTrue(azurite.properties(C, "disk.vhd").endsWith(" leased"));

            // The lease keeps a second writer out, with an error that names it.
            configure("azsecond", "{\"kind\": \"blob\", \"url\": \"" + azurite.blob(C, "disk.vhd") + "\", "
                    + "\"accountKey\": \"" + Azurite.KEY + "\", \"readOnly\": false}");
            String disks = awaitShell("LeaseAlreadyPresent", "disks");
            assertTrue(disks, disks.contains("azsecond"));

            host().remove("azsecond");
            host().remove("azpage");
            assertTrue(azurite.properties(C, "disk.vhd").endsWith(" available"));
        }
    }
}
