package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.diskhost.testkit.ExternalTools;
import org.diskhost.testkit.Nbdsh;
import org.junit.jupiter.api.Test;

/**
 * Byte-granular NBD through the launcher process, as a libnbd user meets it: the server advertises a minimum block
 * size of 1, and nbdsh (which keeps to the advertised sizes) reads and writes single bytes at odd offsets, from two
 * connections and two processes at once, on a file disk.
 */
class NbdByteGranularIT extends LauncherTest {

    @Test
    void nbdshReadsAndWritesSingleBytesThroughTheLauncher() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, """
                {"disks": {"bytes": {"kind": "file", "path": "bytes.img", "create": "8 MiB"}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """);
        Launcher launcher = start(config);
        launcher.await("disk 'bytes' is ready", 1);
        launcher.await("NBD server listening on unix", 1);
        String uri = "nbd+unix:///bytes?socket=" + dir.resolve("var/nbd.sock");

        String info = ExternalTools.await(dir, "nbdinfo", "--json", uri);
        assertTrue(info.contains("\"block_size_minimum\": 1,"), info);
        assertTrue(info.contains("\"block_size_preferred\": 4096,"), info);

        String out = Nbdsh.byteGranularChecks(dir, uri, 1);
        assertTrue(out.contains("checks passed"), out);

        long offset = 4L * 1024 * 1024 + 3; // away from what the checks wrote, and odd
        int span = 3 * 4096;
        Nbdsh.writeAlternateBytesFromTwoProcesses(dir, uri, offset, span);
        launcher.stop(); // a clean stop closes the disk: the file holds every byte
        byte[] file = Files.readAllBytes(dir.resolve("var/bytes.img"));
        assertEquals(8L * 1024 * 1024, file.length);
        for (int i = 0; i < span; i++) {
            assertEquals(Nbdsh.alternateByte(i), file[(int) offset + i], "byte " + (offset + i));
        }
        assertEquals(0, file[(int) offset - 1], "the byte before");
        assertEquals(0, file[(int) offset + span], "the byte after");
    }
}
