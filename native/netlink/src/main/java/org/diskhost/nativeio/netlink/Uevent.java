package org.diskhost.nativeio.netlink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One kernel uevent: the header "ACTION@DEVPATH" then KEY=VALUE properties, for example {@code change} of
 * {@code /devices/virtual/block/loop0} with {@code SUBSYSTEM=block}, {@code RESIZE=1}, {@code MAJOR=7},
 * {@code MINOR=0}.
 *
 * @param action     the header's action ({@code add}, {@code remove}, {@code change}, {@code move}, {@code online},
 *                   {@code offline}, {@code bind}, {@code unbind}), never empty
 * @param devpath    the header's device path below {@code /sys}, starting with '/'
 * @param properties the properties in the order the kernel sent them (unmodifiable; {@code ACTION} and
 *                   {@code DEVPATH} among them as the kernel repeats them)
 */
public record Uevent(String action, String devpath, Map<String, String> properties) {
    /** The prefix of udev's own messages (group 2), which carry a binary header rather than kernel text. */
    private static final String LIBUDEV = "libudev";

    public Uevent {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(devpath, "devpath");
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    /** The value of property {@code key}, if the event has it. */
    public Optional<String> property(String key) {
        return Optional.ofNullable(properties.get(key));
    }

    /** The device's major number ({@code MAJOR}); empty where absent or not a number. */
    public OptionalInt major() {
        return number("MAJOR");
    }

    /** The device's minor number ({@code MINOR}); empty where absent or not a number. */
    public OptionalInt minor() {
        return number("MINOR");
    }

    /**
     * Whether this is the kernel saying that block device {@code major:minor} changed its size: action {@code change},
     * {@code SUBSYSTEM=block}, {@code RESIZE=1} and the given {@code MAJOR} and {@code MINOR}. (The kernel sends it
     * from {@code set_capacity_and_notify}, for example after {@code losetup -c}.)
     */
    public boolean isBlockResize(int major, int minor) {
        return "change".equals(action) && "block".equals(properties.get("SUBSYSTEM"))
                && "1".equals(properties.get("RESIZE")) && major().equals(OptionalInt.of(major))
                && minor().equals(OptionalInt.of(minor));
    }

    /** Whether the event carries {@code RESCAN=true}: the device's state is to be read again from scratch. */
    public boolean isRescan() {
        return "true".equals(properties.get("RESCAN"));
    }

    /**
     * Parses the first {@code length} bytes of {@code datagram} as a kernel uevent: a NUL-terminated header
     * "ACTION@DEVPATH", then NUL-terminated "KEY=VALUE" properties (UTF-8; malformed bytes become U+FFFD). Empty for
     * anything that is not a kernel uevent: udev's "libudev" messages, no NUL-terminated header, a header without
     * '@', an empty action or a device path not starting with '/'. Within a uevent, strings without '=' (or with an
     * empty key) and an unterminated last string (a cut datagram) are left out; a repeated key keeps its last value.
     * Never throws for any content.
     *
     * @throws IndexOutOfBoundsException when {@code length} is negative or larger than the segment
     */
    public static Optional<Uevent> parse(MemorySegment datagram, int length) {
        Objects.checkFromIndexSize(0, length, datagram.byteSize());
        byte[] bytes = datagram.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
        int headerEnd = indexOfNul(bytes, 0);
        if (headerEnd < 0) {
            return Optional.empty();
        }
        String header = text(bytes, 0, headerEnd);
        int at = header.indexOf('@');
        if (header.startsWith(LIBUDEV) || at <= 0 || !header.startsWith("/", at + 1)) {
            return Optional.empty();
        }
        Map<String, String> properties = new LinkedHashMap<>();
        for (int start = headerEnd + 1, end; start < length && (end = indexOfNul(bytes, start)) >= 0;
                start = end + 1) {
            String entry = text(bytes, start, end);
            int equals = entry.indexOf('=');
            if (equals > 0) {
                properties.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
        }
        return Optional.of(new Uevent(header.substring(0, at), header.substring(at + 1), properties));
    }

    private OptionalInt number(String key) {
        String value = properties.get(key);
        if (value == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(value));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    private static int indexOfNul(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static String text(byte[] bytes, int from, int to) {
        return new String(bytes, from, to - from, StandardCharsets.UTF_8);
    }
}
