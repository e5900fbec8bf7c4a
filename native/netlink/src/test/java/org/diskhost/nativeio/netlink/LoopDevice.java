package org.diskhost.nativeio.netlink;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diskhost.testkit.ExternalTools;

/**
 * A loop device over a file of the test's own, attached with {@code losetup -f} and always detached by
 * {@link #close()}: the tests never touch another block device. Needs root and losetup; without them the test is
 * skipped on a developer's machine and fails in CI.
 */
final class LoopDevice implements AutoCloseable {
    final Path file;
    /** For example /dev/loop3. */
    final String device;
    /** The device's directory in sysfs, for example /sys/block/loop3. */
    final Path sysfs;
    final int major;
    final int minor;

    private LoopDevice(Path file, String device, int major, int minor) {
        this.file = file;
        this.device = device;
        this.sysfs = Path.of("/sys/block", Path.of(device).getFileName().toString());
        this.major = major;
        this.minor = minor;
    }

    /** Attaches a new loop device over a new file of {@code size} bytes in {@code dir}. */
    static LoopDevice attach(Path dir, long size) throws IOException, InterruptedException {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root && System.getenv("CI") != null) {
            fail("loop devices need root");
        }
        assumeTrue(root, "loop devices need root");
        Path file = dir.resolve("backing.img");
        setLength(file, size);
        String device = ExternalTools.ok(dir, "losetup", "-f", "--show", file.toString()).strip();
        LoopDevice loop = null;
        try {
            String[] dev = Files.readString(Path.of("/sys/block", Path.of(device).getFileName().toString(), "dev"))
                    .strip().split(":"); // "7:3"
            loop = new LoopDevice(file, device, Integer.parseInt(dev[0]), Integer.parseInt(dev[1]));
            return loop;
        } finally {
            if (loop == null) {
                ExternalTools.run(dir, "losetup", "-d", device);
            }
        }
    }

    /** Grows (or shrinks) the backing file and tells the loop driver ({@code losetup -c}), which sends RESIZE=1. */
    void resize(long size) throws IOException, InterruptedException {
        setLength(file, size);
        ExternalTools.ok(file.getParent(), "losetup", "-c", device);
    }

    /** Makes the kernel send a synthetic uevent for this device (written to its sysfs {@code uevent} file). */
    void trigger(String action) throws IOException {
        Files.writeString(sysfs.resolve("uevent"), action);
    }

    /** Whether {@code event} is about this device. */
    boolean isAbout(Uevent event) {
        return event.major().equals(java.util.OptionalInt.of(major))
                && event.minor().equals(java.util.OptionalInt.of(minor));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        ExternalTools.ok(file.getParent(), "losetup", "-d", device);
    }

    private static void setLength(Path file, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
    }
}
