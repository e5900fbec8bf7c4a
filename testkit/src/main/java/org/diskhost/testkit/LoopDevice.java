package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Linux loop device over a file, for tests of block-device code: {@code losetup --find --show} attaches it,
 * {@link #close()} (or {@link #detach()}) detaches it. Use it in try-with-resources or detach it in an
 * {@code @AfterEach}, so that no test leaves a device behind; it never touches a device it did not attach.
 *
 * <p>Loop devices need root (or {@code CAP_SYS_ADMIN}) and {@code /dev/loop-control}. Where losetup is missing or not
 * permitted the test is skipped, except under {@code CI=true}, where it fails (see {@link ExternalTools}).
 *
 * <p>Where {@code /dev} is a static directory (some containers), the node of the device the kernel hands out may be
 * missing; {@link #attach()} then creates it ({@code mknod /dev/loopN b 7 N}, numbers from
 * {@code /sys/block/loopN/dev}) before attaching.
 */
public final class LoopDevice implements AutoCloseable {
    private static final Pattern LOOP_PATH = Pattern.compile("/dev/loop[0-9]+");
    private final Path dir;
    private final Path path;
    private final Path file;
    private final int major;
    private final int minor;
    private boolean attached = true;

    private LoopDevice(Path dir, Path path, Path file, int major, int minor) {
        this.dir = dir;
        this.path = path;
        this.file = file;
        this.major = major;
        this.minor = minor;
    }

    /** Starts the options of a loop device over {@code file} (which must exist; its size is the device's). */
    public static Builder over(Path file) {
        return new Builder(file);
    }

    /** The options of a loop device; {@link #attach()} makes it. */
    public static final class Builder {
        private final Path file;
        private int sectorSize = 512;
        private boolean readOnly;
        private boolean directIo;

        private Builder(Path file) {
            this.file = file;
        }

        /** The logical sector size (losetup {@code --sector-size}): 512 (the default) to 4096, a power of two. */
        public Builder sectorSize(int bytes) {
            sectorSize = bytes;
            return this;
        }

        /** A read-only device (losetup {@code --read-only}). */
        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        /** The device reads and writes its file with O_DIRECT (losetup {@code --direct-io=on}). */
        public Builder directIo(boolean directIo) {
            this.directIo = directIo;
            return this;
        }

        /**
         * Attaches the device. Skips the test (fails it under {@code CI=true}) where loop devices cannot be made;
         * fails it when losetup refuses these options.
         */
        public LoopDevice attach() throws IOException, InterruptedException {
            requireLoopDevices();
            Path dir = file.toAbsolutePath().getParent();
            createMissingNode(dir);
            List<String> command = new ArrayList<>(List.of("losetup", "--find", "--show", "--sector-size",
                    Integer.toString(sectorSize)));
            if (readOnly) {
                command.add("--read-only");
            }
            if (directIo) {
                command.add("--direct-io=on");
            }
            command.add(file.toAbsolutePath().toString());
            ExternalTools.Result r = ExternalTools.run(dir, command.toArray(String[]::new));
            if (r.exit() != 0 && notPermitted(r.err())) {
                unavailable("losetup is not permitted here: " + r.err().strip());
            }
            String device = r.ok().strip();
            if (!LOOP_PATH.matcher(device).matches()) {
                fail("losetup printed " + device + ", not a loop device");
            }
            String[] numbers;
            try {
                numbers = Files.readString(sysfs(Path.of(device)).resolve("dev")).strip().split(":"); // "7:3"
            } catch (IOException e) {
                ExternalTools.run(dir, "losetup", "-d", device);
                throw e;
            }
            return new LoopDevice(dir, Path.of(device), file, Integer.parseInt(numbers[0]),
                    Integer.parseInt(numbers[1]));
        }
    }

    /** The device node, for example {@code /dev/loop3}. */
    public Path path() {
        return path;
    }

    /** The backing file. */
    public Path file() {
        return file;
    }

    /** The device's directory in sysfs, for example {@code /sys/block/loop3}. */
    public Path sysfs() {
        return sysfs(path);
    }

    /** The device's major number (7 for every loop device), as its sysfs {@code dev} file gave it at attach. */
    public int major() {
        return major;
    }

    /** The device's minor number, as its sysfs {@code dev} file gave it at attach. */
    public int minor() {
        return minor;
    }

    /** Makes the device take its backing file's current size (losetup {@code -c}), after the file grew or shrank. */
    public void resize() throws IOException, InterruptedException {
        ExternalTools.ok(dir, "losetup", "-c", path.toString());
    }

    /**
     * Makes the kernel send a synthetic uevent for the device, as {@code udevadm trigger} does, by writing
     * {@code action} to its sysfs {@code uevent} file: an action ("change", "add", ...), optionally followed by a UUID
     * that the event carries back as {@code SYNTH_UUID} (Linux 4.13 and later), so that a test can tell its own event.
     */
    public void triggerUevent(String action) throws IOException {
        Files.writeString(sysfs().resolve("uevent"), action);
    }

    /** Detaches the device (losetup {@code -d}); a second call does nothing. */
    public void detach() throws IOException, InterruptedException {
        if (attached) {
            attached = false;
            ExternalTools.ok(dir, "losetup", "-d", path.toString());
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        detach();
    }

    private static Path sysfs(Path device) {
        return Path.of("/sys/block", device.getFileName().toString());
    }

    private static void requireLoopDevices() {
        ExternalTools.require("losetup");
        if (!Files.isWritable(Path.of("/dev/loop-control"))) {
            unavailable("/dev/loop-control is missing or not writable (loop devices need root)");
        }
    }

    /**
     * Creates the node of the next free device when /dev lacks it (a static /dev in a container): losetup would fail
     * on it. The kernel creates the device itself; only the node is missing.
     */
    private static void createMissingNode(Path dir) throws IOException, InterruptedException {
        ExternalTools.Result next = ExternalTools.run(dir, "losetup", "--find");
        if (next.exit() != 0) {
            return; // attach reports why
        }
        String device = next.out().strip();
        if (!LOOP_PATH.matcher(device).matches() || Files.exists(Path.of(device))) {
            return;
        }
        String name = device.substring("/dev/".length());
        Path numbers = sysfs(Path.of(device)).resolve("dev");
        String[] majorMinor = Files.isReadable(numbers) ? Files.readString(numbers).strip().split(":")
                : new String[] {"7", name.substring("loop".length())};
        ExternalTools.ok(dir, "mknod", "-m", "0660", device, "b", majorMinor[0], majorMinor[1]);
    }

    private static boolean notPermitted(String stderr) {
        String s = stderr.toLowerCase(Locale.ROOT);
        return s.contains("permission denied") || s.contains("operation not permitted")
                || s.contains("cannot find an unused loop device");
    }

    private static void unavailable(String why) {
        if (System.getenv("CI") != null) {
            fail(why + "; CI machines run the tests as root with loop devices");
        }
        Assumptions.abort(why);
    }
}
