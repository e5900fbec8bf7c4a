package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop device helper against losetup's own listing. */
class LoopDeviceTest {
    @TempDir
    Path dir;

    /** losetup's columns for the device: name, read-only, direct I/O, logical sector size, size. */
    private String listing(LoopDevice loop) throws Exception {
        return ExternalTools.ok(dir, "losetup", "--list", "--noheadings", "--raw", "--output",
                "NAME,RO,DIO,LOG-SEC,SIZELIMIT,BACK-FILE", loop.path().toString()).strip();
    }

    @Test
    void attachesWithItsOptionsAndDetaches() throws Exception {
        Path file = dir.resolve("disk.img");
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1 << 20);
        }
        LoopDevice loop = LoopDevice.over(file).sectorSize(4096).readOnly(true).directIo(true).attach();
        try {
            assertTrue(Files.exists(loop.path()), loop.path().toString());
            assertEquals(loop.path() + " 1 1 4096 0 " + file.toAbsolutePath(), listing(loop));
        } finally {
            loop.close();
        }
        ExternalTools.Result after = ExternalTools.run(dir, "losetup", "--list", "--noheadings", "--output",
                "NAME,BACK-FILE");
        assertFalse(after.out().contains(file.toAbsolutePath().toString()), after.out());
        loop.detach(); // a second detach does nothing
    }

    @Test
    void defaults() throws Exception {
        Path file = dir.resolve("disk.img");
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(1 << 20);
        }
        try (LoopDevice loop = LoopDevice.over(file).attach()) {
            assertEquals(loop.path() + " 0 0 512 0 " + file.toAbsolutePath(), listing(loop));
            assertEquals(file, loop.file());
            assertEquals(Path.of("/sys/block", loop.path().getFileName().toString()), loop.sysfs());
            assertEquals(7, loop.major(), "loop devices have major 7");
            // losetup's own view of the numbers.
            assertEquals(loop.major() + ":" + loop.minor(), ExternalTools.ok(dir, "losetup", "--list",
                    "--noheadings", "--output", "MAJ:MIN", loop.path().toString()).strip());
        }
    }
}
