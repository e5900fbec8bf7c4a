package org.diskhost.backend.blockdevice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

import org.diskhost.api.pr.ReservationType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading sysfs as the kernel lays it out, on a tree of the same shape; the dev_t split; RESCAP to capabilities. */
class DeviceTest {
    @TempDir
    Path sys;

    private void attributes(Path dir, Map<String, String> values) throws Exception {
        for (Map.Entry<String, String> e : values.entrySet()) {
            Path file = dir.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue() + "\n");
        }
    }

    @Test
    void anNvmeNamespaceIsDescribedFromItsQueueAndNsid() throws Exception {
        Path ns = sys.resolve("devices/pci/nvme/nvme0n1");
        attributes(ns, Map.of("size", "2097152", "nsid", "1", "queue/logical_block_size", "4096",
                "queue/physical_block_size", "4096", "queue/discard_granularity", "4096", "queue/fua", "1"));
        Files.createDirectories(sys.resolve("dev"));
        Files.createSymbolicLink(sys.resolve("dev/259:0"), Path.of("../devices/pci/nvme/nvme0n1"));
        Device d = Device.ofBlockDevice(-1, 259, 0, sys.resolve("dev"));
        assertEquals(4096, d.logicalSectorSize());
        assertEquals(1L << 30, d.sizeBytes(), "size is in 512-byte units whatever the sector size");
        assertEquals(4096, d.discardGranularity());
        assertTrue(d.fua());
        assertEquals(OptionalInt.of(1), d.namespaceId());
        assertEquals("block device 259:0", d.describe());
    }

    @Test
    void aPartitionUsesItsDisksQueue() throws Exception {
        Path disk = sys.resolve("devices/virtio/vda");
        attributes(disk, Map.of("size", "8388608", "queue/logical_block_size", "512",
                "queue/physical_block_size", "4096", "queue/discard_granularity", "0", "queue/fua", "0"));
        attributes(disk.resolve("vda1"), Map.of("size", "2048", "partition", "1"));
        Files.createDirectories(sys.resolve("dev"));
        Files.createSymbolicLink(sys.resolve("dev/253:1"), Path.of("../devices/virtio/vda/vda1"));
        Device d = Device.ofBlockDevice(-1, 253, 1, sys.resolve("dev"));
        assertEquals(1 << 20, d.sizeBytes(), "the partition's own size");
        assertEquals(512, d.logicalSectorSize());
        assertEquals(4096, d.physicalSectorSize());
        assertEquals(0, d.discardGranularity());
        assertFalse(d.fua());
        assertTrue(d.namespaceId().isEmpty());
    }

    @Test
    void whatTheKernelReportsIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.BLOCK_DEVICE, 7, 0, 768, 4096,
                1 << 20, 0, false, OptionalInt.empty(), java.util.Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.BLOCK_DEVICE, 7, 0, 512, 3000,
                1 << 20, 0, false, OptionalInt.empty(), java.util.Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.BLOCK_DEVICE, 7, 0, 4096, 4096,
                4096 + 512, 0, false, OptionalInt.empty(), java.util.Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.BLOCK_DEVICE, 7, 0, 4096, 4096,
                8192, 512, false, OptionalInt.empty(), java.util.Optional.empty()));
        Device raised = new Device(Device.Kind.BLOCK_DEVICE, 7, 0, 4096, 512, 8192, 0, false, OptionalInt.empty(),
                java.util.Optional.empty());
        assertEquals(4096, raised.physicalSectorSize(), "physical = max(physical, logical)");
    }

    @Test
    void devTIsSplitAsLinuxEncodesIt() {
        // makedev(259, 0x12345): minor's low 8 bits, major's 12 bits, then minor's upper bits from bit 20.
        long rdev = (0x12345L & 0xff) | ((259L & 0xfff) << 8) | ((0x12345L & ~0xffL) << 12);
        assertEquals(259, Device.major(rdev));
        assertEquals(0x12345, Device.minor(rdev));
        assertEquals(7, Device.major(0x0703));
        assertEquals(3, Device.minor(0x0703));
    }

    @Test
    void rescapBitsBecomeTheCapabilities() {
        // PTPL (bit 0), write exclusive (1), exclusive access registrants only (4).
        var caps = new BlockReservations(-1, 1, 0b10011, null, "test").capabilities();
        assertTrue(caps.persistThroughPowerLoss());
        assertTrue(caps.supports(ReservationType.WRITE_EXCLUSIVE));
        assertTrue(caps.supports(ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
        assertFalse(caps.supports(ReservationType.EXCLUSIVE_ACCESS));
        assertFalse(caps.supports(ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS));
    }
}
