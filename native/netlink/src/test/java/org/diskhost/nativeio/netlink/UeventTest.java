package org.diskhost.nativeio.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class UeventTest {
    /**
     * Received on this machine (Linux 6.18) from NETLINK_KOBJECT_UEVENT group 1 during {@code losetup -f} over a
     * 1 MiB file, growing it to 2 MiB, {@code losetup -c} and {@code losetup -d}: the capacity change, then the
     * resize itself, then what detaching sends.
     */
    static final String CHANGE = "change@/devices/virtual/block/loop0\0ACTION=change\0"
            + "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0DEVTYPE=disk\0"
            + "DISKSEQ=13\0SEQNUM=829\0";
    static final String RESIZE = "change@/devices/virtual/block/loop0\0ACTION=change\0"
            + "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0RESIZE=1\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0"
            + "DEVTYPE=disk\0DISKSEQ=13\0SEQNUM=830\0";
    static final String MEDIA_CHANGE = "change@/devices/virtual/block/loop0\0ACTION=change\0"
            + "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0DISK_MEDIA_CHANGE=1\0MAJOR=7\0MINOR=0\0"
            + "DEVNAME=loop0\0DEVTYPE=disk\0DISKSEQ=13\0SEQNUM=832\0";

    private static Optional<Uevent> parse(String raw) {
        return parse(raw.getBytes(StandardCharsets.UTF_8));
    }

    private static Optional<Uevent> parse(byte[] raw) {
        return Uevent.parse(MemorySegment.ofArray(raw), raw.length);
    }

    @Test
    void aResize() {
        Uevent event = parse(RESIZE).orElseThrow();
        assertEquals("change", event.action());
        assertEquals("/devices/virtual/block/loop0", event.devpath());
        assertEquals(List.of("ACTION", "DEVPATH", "SUBSYSTEM", "RESIZE", "MAJOR", "MINOR", "DEVNAME", "DEVTYPE",
                "DISKSEQ", "SEQNUM"), List.copyOf(event.properties().keySet()));
        assertEquals(Optional.of("loop0"), event.property("DEVNAME"));
        assertEquals(Optional.empty(), event.property("RESCAN"));
        assertEquals(OptionalInt.of(7), event.major());
        assertEquals(OptionalInt.of(0), event.minor());
        assertTrue(event.isBlockResize(7, 0));
        assertFalse(event.isBlockResize(7, 1));
        assertFalse(event.isBlockResize(8, 0));
        assertFalse(event.isRescan());
        assertThrows(UnsupportedOperationException.class, () -> event.properties().put("RESIZE", "0"));
    }

    @Test
    void otherChangesAreNoResize() {
        for (String raw : List.of(CHANGE, MEDIA_CHANGE)) {
            Uevent event = parse(raw).orElseThrow();
            assertEquals("change", event.action());
            assertFalse(event.isBlockResize(7, 0), raw);
        }
        assertEquals(Optional.of("1"), parse(MEDIA_CHANGE).orElseThrow().property("DISK_MEDIA_CHANGE"));
        // RESIZE=1 of another subsystem or another action is no block resize.
        assertFalse(parse(RESIZE.replace("SUBSYSTEM=block", "SUBSYSTEM=scsi")).orElseThrow().isBlockResize(7, 0));
        assertFalse(parse(RESIZE.replace("change@", "add@")).orElseThrow().isBlockResize(7, 0));
        assertFalse(parse(RESIZE.replace("RESIZE=1", "RESIZE=0")).orElseThrow().isBlockResize(7, 0));
    }

    @Test
    void rescan() {
        Uevent event = parse(CHANGE.replace("DISKSEQ=13\0", "RESCAN=true\0DISKSEQ=13\0")).orElseThrow();
        assertTrue(event.isRescan());
        assertFalse(parse(CHANGE.replace("DISKSEQ=13\0", "RESCAN=false\0")).orElseThrow().isRescan());
    }

    @Test
    void onlyTheGivenLengthCounts() {
        byte[] raw = (RESIZE + "EXTRA=1\0").getBytes(StandardCharsets.UTF_8);
        Uevent event = Uevent.parse(MemorySegment.ofArray(raw), RESIZE.length()).orElseThrow();
        assertEquals(Optional.empty(), event.property("EXTRA"));
        assertEquals(Optional.of("830"), event.property("SEQNUM"));
        assertThrows(IndexOutOfBoundsException.class, () -> Uevent.parse(MemorySegment.ofArray(raw), raw.length + 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Uevent.parse(MemorySegment.ofArray(raw), -1));
    }

    @Test
    void udevsOwnMessagesAreRejected() {
        // libudev's monitor format: "libudev\0", magic 0xfeedcafe, header fields, then the properties.
        ByteArrayOutputStream udev = new ByteArrayOutputStream();
        udev.writeBytes("libudev\0".getBytes(StandardCharsets.US_ASCII));
        udev.writeBytes(new byte[] {(byte) 0xfe, (byte) 0xed, (byte) 0xca, (byte) 0xfe, 0, 0, 0, 40, 0, 0, 0, 40});
        udev.writeBytes(new byte[28]);
        udev.writeBytes(RESIZE.substring(RESIZE.indexOf('\0') + 1).getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.empty(), parse(udev.toByteArray()));
        assertEquals(Optional.empty(), parse("libudev@/devices/virtual/block/loop0\0ACTION=change\0"));
    }

    @Test
    void malformedInputIsNoUevent() {
        assertEquals(Optional.empty(), parse(""));
        assertEquals(Optional.empty(), parse("\0"));
        assertEquals(Optional.empty(), parse("change/devices/virtual/block/loop0\0ACTION=change\0"), "no '@'");
        assertEquals(Optional.empty(), parse("change@/devices/virtual/block/loop0"), "no NUL");
        assertEquals(Optional.empty(), parse("@/devices/virtual/block/loop0\0"), "no action");
        assertEquals(Optional.empty(), parse("change@\0"), "no device path");
        assertEquals(Optional.empty(), parse("change@devices\0"), "a path not from /");
        // Invalid UTF-8 is replaced, never thrown.
        Uevent odd = parse(new byte[] {(byte) 0xff, '@', '/', 0, (byte) 0x80, '=', (byte) 0xc3, 0}).orElseThrow();
        assertEquals("\ufffd", odd.action());
        assertEquals(Map.of("\ufffd", "\ufffd"), odd.properties());
    }

    @Test
    void malformedPropertiesAreLeftOut() {
        Uevent event = parse("change@/devices/x\0NOEQUALS\0\0=empty-key\0MAJOR=seven\0MINOR=\0A=b=c\0A=d\0CUT=1")
                .orElseThrow();
        assertEquals(Map.of("MAJOR", "seven", "MINOR", "", "A", "d"), event.properties());
        assertEquals(OptionalInt.empty(), event.major());
        assertEquals(OptionalInt.empty(), event.minor());
        assertFalse(event.isBlockResize(7, 0));
        assertEquals(Map.of(), parse("remove@/devices/x\0").orElseThrow().properties());
    }

    @Test
    void constructedEventsCopyTheirProperties() {
        var properties = new java.util.HashMap<>(Map.of("RESCAN", "true"));
        Uevent event = new Uevent("change", "/devices/x", properties);
        properties.clear();
        assertTrue(event.isRescan());
        assertEquals(new Uevent("change", "/devices/x", Map.of("RESCAN", "true")), event);
    }
}
