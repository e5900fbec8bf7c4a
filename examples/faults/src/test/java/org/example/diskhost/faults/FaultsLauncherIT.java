package org.example.diskhost.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kind {@code faults} in the real launcher, reached by real NBD clients: qemu-io's requests fail exactly in the
 * faulted range, with the errors the NBD server's table gives; a runtime change turns the faults on and off; and the
 * bundle, dropped into {@code deploy/}, comes up and is upgraded by a second drop under a verifying fio job.
 */
class FaultsLauncherIT {
    private static final String EIO = "Input/output error";

    @TempDir
    Path dir;

    /** Runs qemu-io's command {@code command} on the export; returns its output (it reports failures there). */
    private String qemuIo(Launcher host, String export, String command) throws Exception {
        ExternalTools.Result r = ExternalTools.run(dir, "qemu-io", "-f", "raw",
                "nbd+unix:///" + export + "?socket=" + host.data().resolve("nbd.sock"), "-c", command);
        return r.out() + r.err();
    }

    private void assertFails(Launcher host, String export, String command, String error) throws Exception {
        String out = qemuIo(host, export, command);
        assertTrue(out.contains(error), "'" + command + "' on " + export + " should fail with " + error + ":\n" + out);
    }

    private void assertSucceeds(Launcher host, String export, String command) throws Exception {
        String out = qemuIo(host, export, command);
        boolean transfer = command.startsWith("read") || command.startsWith("write");
        assertTrue(!out.contains("failed") && (!transfer || out.matches("(?s).*(read|wrote) \\d+/\\d+ bytes.*")),
                "'" + command + "' on " + export + " should succeed:\n" + out);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static final String CONFIG = """
            {"disks": {
               "flaky": {"kind": "faults", "ops": ["read", "write"], "from": 2048, "count": 2048, "file": "faults-on",
                         "rate": %s, "disk": {"kind": "file", "path": "flaky.img", "create": "4 MiB"}},
               "denied": {"kind": "faults", "ops": "write,unmap", "error": "readOnly",
                          "disk": {"kind": "file", "path": "denied.img", "create": "1 MiB"}},
               "full": {"kind": "faults", "ops": "write", "error": "illegalBlock",
                        "disk": {"kind": "file", "path": "full.img", "create": "1 MiB"}}},
             "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
            """;

    @Test
    void qemuIoMeetsTheFaultsExactlyInTheRangeAndARuntimeChangeTurnsThemOnAndOff() throws Exception {
        ExternalTools.require("qemu-io");
        Files.createDirectories(dir.resolve("deploy"));
        Files.copy(Launcher.faultsBundle(), dir.resolve("deploy/faults.jar"));
        try (Launcher host = Launcher.start(dir, CONFIG.formatted(1))) {
            host.await("disk 'flaky' is ready", 1);
            host.await("disk 'denied' is ready", 1);
            host.await("disk 'full' is ready", 1);
            host.await("NBD server listening on unix", 1);

            // No trigger file yet: the faults are not armed.
            assertSucceeds(host, "flaky", "read 1M 4k");
            Files.createFile(host.data().resolve("faults-on"));

            // Sectors 2048..4095 are bytes 1 MiB to 2 MiB.
            assertSucceeds(host, "flaky", "read 0 1M");
            assertFails(host, "flaky", "read 1M 4k", EIO);
            assertFails(host, "flaky", "read 1020k 8k", EIO); // straddles the start
            assertFails(host, "flaky", "read 2044k 4k", EIO); // the last sectors
            assertFails(host, "flaky", "write -P 0xab 1536k 512", EIO);
            assertSucceeds(host, "flaky", "write -P 0xab 2M 64k");
            assertSucceeds(host, "flaky", "read -P 0xab 2M 64k");
            assertSucceeds(host, "flaky", "write -P 0xcd 1020k 4k");
            assertSucceeds(host, "flaky", "flush"); // flush is not among the operations

            // The README's DiskError -> NBD table: ReadOnly is EPERM, IllegalBlock on a write ENOSPC.
            assertFails(host, "denied", "write 0 4k", "Operation not permitted");
            assertSucceeds(host, "denied", "read 0 4k");
            assertFails(host, "full", "write 0 4k", "No space left on device");

            // Runtime changes: removing the trigger file disarms the faults, creating it arms them again.
            Files.delete(host.data().resolve("faults-on"));
            assertSucceeds(host, "flaky", "read 1M 4k");
            Files.createFile(host.data().resolve("faults-on"));
            assertFails(host, "flaky", "read 1M 4k", EIO);

            // A change of the disk's spec (rate 0) is applied by the host while it runs; rate 1 turns them on again.
            host.configure(CONFIG.formatted(0));
            host.await("disk 'flaky' is ready", 2);
            assertSucceeds(host, "flaky", "read 1M 1M");
            host.configure(CONFIG.formatted("\"100%\""));
            host.await("disk 'flaky' is ready", 3);
            assertFails(host, "flaky", "read 1M 4k", EIO);

            // A bad setting is reported with the disk, the kind and the setting; the other disks keep running.
            host.configure(CONFIG.formatted("2"));
            host.await("disk 'flaky', kind 'faults', setting 'rate': must be between 0 and 1", 1);
            assertSucceeds(host, "denied", "read 0 4k");
            assertTrue(host.isAlive());
        }
    }

    @Test
    void theBundleDroppedIntoDeployServesItsDisksAndAnUpgradeDropKeepsThemUp() throws Exception {
        ExternalTools.require("fio");
        ExternalTools.require("qemu-io");
        try (Launcher host = Launcher.start(dir, """
                {"disks": {"swap": {"kind": "faults", "ops": "read,write", "error": "medium", "from": 0, "count": 2048,
                                    "file": "faults-on", "disk": {"kind": "file", "path": "swap.img", "create": "32 MiB"}}},
                 "nbd": {"listen": "none", "unixSocket": "nbd.sock"}}
                """)) {
            host.await("NBD server listening on unix", 1);
            host.await("no resolver for kind 'faults'", 1);
            Files.createFile(host.data().resolve("faults-on"));

            // First drop: the bundle is installed, its resolver appears, the waiting disk comes up.
            Files.copy(Launcher.faultsBundle(), host.deploy().resolve("faults.jar"));
            host.await("installed org.example.diskhost.faults", 1);
            host.await("disk 'swap' is ready", 1);
            assertFails(host, "swap", "read 0 4k", EIO); // MediumError is EIO over NBD
            assertSucceeds(host, "swap", "write -P 0x5a 1M 4k");

            // Verified writes past the faulted first MiB, during an upgrade by a second drop of the bundle.
            Path fioOut = dir.resolve("fio.txt");
            Process fio = new ProcessBuilder("fio", "--name=faults-swap", "--ioengine=nbd",
                    "--uri=nbd+unix:///swap?socket=" + host.data().resolve("nbd.sock"), "--offset=4M", "--size=16M",
                    "--rw=randwrite", "--bs=4k", "--iodepth=8", "--rate_iops=800", "--verify=crc32c",
                    "--verify_fatal=1").directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(fioOut.toFile()).start();
            Thread.sleep(1000);
            Files.copy(Launcher.faultsBundle(), host.deploy().resolve("faults-upgrade.jar"),
                    StandardCopyOption.REPLACE_EXISTING);
            host.await("upgraded org.example.diskhost.faults", 1);
            host.await("disk 'swap' is ready", 2);
            assertTrue(fio.isAlive(), () -> "fio was still writing after the upgrade (else make its job longer):\n"
                    + read(fioOut));
            assertTrue(fio.waitFor(120, TimeUnit.SECONDS), "fio finished");
            String out = Files.readString(fioOut);
            assertEquals(0, fio.exitValue(), out);
            assertTrue(out.contains("err= 0"), out);

            // The upgraded bundle serves the disk with the same faults, and the data written before is there.
            assertFails(host, "swap", "read 0 4k", EIO);
            assertFails(host, "swap", "write 1020k 4k", EIO);
            assertSucceeds(host, "swap", "read -P 0x5a 1M 4k");
            Files.delete(host.data().resolve("faults-on"));
            assertSucceeds(host, "swap", "read 0 4k");
        }
    }
}
