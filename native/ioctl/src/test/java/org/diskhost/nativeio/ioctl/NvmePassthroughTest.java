package org.diskhost.nativeio.ioctl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.diskhost.nativeio.ioctl.NvmePassthrough.Command;
import org.diskhost.nativeio.ioctl.NvmePassthrough.IdentifyController;
import org.diskhost.nativeio.ioctl.NvmePassthrough.IdentifyNamespace;
import org.diskhost.nativeio.ioctl.NvmePassthrough.NvmeStatusException;
import org.diskhost.nativeio.ioctl.NvmePassthrough.Queue;
import org.diskhost.nativeio.ioctl.NvmePassthrough.Registrant;
import org.diskhost.nativeio.ioctl.NvmePassthrough.ReservationStatus;
import org.junit.jupiter.api.Test;

/**
 * The pure parts of NVMe passthrough: the command's encoding and the parsers, against byte fixtures written at the
 * offsets of the NVM Express specifications (Base: Identify Controller data structure, Reservation Status Extended
 * Data Structure and Registered Controller Extended Data Structure; NVM Command Set: Identify Namespace data
 * structure). The machines these tests run on have no NVMe device, so the ioctls themselves are only checked for
 * their numbers.
 */
class NvmePassthroughTest {
    /** Little-endian writes at byte offsets, as the specification numbers them. */
    private static final class Fixture {
        final byte[] bytes;

        Fixture(int size) {
            bytes = new byte[size];
        }

        Fixture le(int at, int width, long value) {
            for (int i = 0; i < width; i++) {
                bytes[at + i] = (byte) (value >>> 8 * i);
            }
            return this;
        }

        MemorySegment segment() {
            return MemorySegment.ofArray(bytes.clone());
        }
    }

    @Test
    void encodesAPassthroughCommand() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(4096, 4096);
            MemorySegment cmd = NvmePassthrough.encode(arena,
                    new Command(0x0E, 7, 1023, 1, 0x12, 0x13, 0x14, 0x15, 5000), data);
            assertEquals(72, cmd.byteSize());
            assertEquals(0x0E, cmd.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(7, cmd.get(ValueLayout.JAVA_INT, 4));
            assertEquals(data.address(), cmd.get(ValueLayout.JAVA_LONG, 24));
            assertEquals(4096, cmd.get(ValueLayout.JAVA_INT, 36));
            assertEquals(1023, cmd.get(ValueLayout.JAVA_INT, 40));
            assertEquals(1, cmd.get(ValueLayout.JAVA_INT, 44));
            assertEquals(0x15, cmd.get(ValueLayout.JAVA_INT, 60));
            assertEquals(5000, cmd.get(ValueLayout.JAVA_INT, 64));
            assertEquals(0, cmd.get(ValueLayout.JAVA_INT, 68), "result, filled by the kernel");
        }
    }

    @Test
    void commandFactories() {
        assertEquals(new Command(0x06, 0, 1, 0, 0, 0, 0, 0, 0), Command.identify(NvmePassthrough.CNS_CONTROLLER, 0));
        assertEquals(new Command(0x06, 3, 0, 0, 0, 0, 0, 0, 0), Command.identify(NvmePassthrough.CNS_NAMESPACE, 3));
        // NUMD is 0's based; EDS is CDW11 bit 0.
        assertEquals(new Command(0x0E, 3, 1023, 1, 0, 0, 0, 0, 0), Command.reservationReport(3, 4096));
        assertEquals(new Command(0x0E, 3, 15, 1, 0, 0, 0, 0, 0), Command.reservationReport(3, 64));
        assertThrows(IllegalArgumentException.class, () -> Command.reservationReport(3, 62));
        assertThrows(IllegalArgumentException.class, () -> new Command(0x100, 0, 0, 0, 0, 0, 0, 0, 0));
    }

    @Test
    void identifyController() {
        // ONCS at bytes 521:520; neighbours set so that an off-by-one shows.
        Fixture f = new Fixture(4096).le(516, 4, 0xffffffffL).le(520, 2, 0x0020).le(522, 2, 0xffff);
        IdentifyController c = IdentifyController.parse(f.segment());
        assertEquals(0x20, c.oncs());
        assertTrue(c.reservations());

        IdentifyController none = IdentifyController.parse(new Fixture(4096).le(520, 2, 0xffdf).segment());
        assertEquals(0xffdf, none.oncs());
        assertFalse(none.reservations());
        assertThrows(IllegalArgumentException.class, () -> IdentifyController.parse(MemorySegment.ofArray(new byte[
                512])));
    }

    @Test
    void identifyNamespace() {
        // NSZE bytes 7:0, NCAP 15:8, NUSE 23:16, NMIC 30, RESCAP 31, FPI 32.
        Fixture f = new Fixture(4096).le(0, 8, 0x0000_0012_3456_789aL).le(8, 8, -1L).le(30, 1, 0xff)
                .le(31, 1, 0b1000_0101).le(32, 1, 0xff);
        IdentifyNamespace ns = IdentifyNamespace.parse(f.segment());
        assertEquals(0x0000_0012_3456_789aL, ns.nsze());
        assertEquals(0b1000_0101, ns.rescap());
        assertTrue(ns.supportsType(2)); // Exclusive Access (bit 2)
        assertFalse(ns.supportsType(1));
        assertFalse(ns.supportsType(0));
        assertFalse(ns.supportsType(7), "bit 7 is Ignore Existing Key, not a type");
        assertTrue(ns.reservations());
        assertFalse(IdentifyNamespace.parse(new Fixture(4096).le(31, 1, 0b1000_0001).segment()).reservations());
    }

    private static byte[] hostId(int seed) {
        byte[] id = new byte[16];
        for (int i = 0; i < 16; i++) {
            id[i] = (byte) (seed * 16 + i);
        }
        return id;
    }

    /** An extended Reservation Report of {@code count} registrants, {@code room} entries of which are written. */
    private static Fixture report(int size, int generation, int rtype, boolean ptpl, int count, int room) {
        Fixture f = new Fixture(size).le(0, 4, generation).le(4, 1, rtype).le(5, 2, count).le(9, 1, ptpl ? 1 : 0);
        for (int i = 0; i < Math.min(count, room); i++) {
            int at = 64 + 64 * i;
            f.le(at, 2, 0x100 + i).le(at + 2, 1, i == 1 ? 1 : 0).le(at + 8, 8, 0xabc0_0000_0000_0000L + i);
            System.arraycopy(hostId(i), 0, f.bytes, at + 16, 16);
            f.le(at + 32, 8, -1L); // reserved bytes 63:32, nonsense that must be ignored
        }
        return f;
    }

    @Test
    void reservationReport() {
        ReservationStatus s = ReservationStatus.parse(report(4096, 0x8000_0001, 2, true, 3, 3).segment());
        assertEquals(0x8000_0001, s.generation());
        assertEquals(2, s.reservationType());
        assertTrue(s.persistThroughPowerLoss());
        assertEquals(3, s.registrants().size());
        assertEquals(new Registrant(0x101, true, hostId(1), 0xabc0_0000_0000_0001L), s.registrants().get(1));
        assertEquals(0x100, s.registrants().get(0).controllerId());
        assertFalse(s.registrants().get(0).holdsReservation());
        assertArrayEquals(hostId(2), s.registrants().get(2).hostId());

        ReservationStatus empty = ReservationStatus.parse(report(64, 9, 0, false, 0, 0).segment());
        assertEquals(new ReservationStatus(9, 0, false, List.of()), empty);
        assertThrows(IllegalArgumentException.class,
                () -> ReservationStatus.parse(report(4096, 1, 0, false, 64, 63).segment()), "64 need 4160 bytes");
    }

    @Test
    void registrantIsAValue() {
        byte[] id = hostId(5);
        Registrant r = new Registrant(1, false, id, 2);
        id[0] = 99;
        assertEquals(new Registrant(1, false, hostId(5), 2), r);
        assertEquals(new Registrant(1, false, hostId(5), 2).hashCode(), r.hashCode());
        assertNotEquals(new Registrant(1, false, hostId(6), 2), r);
        r.hostId()[0] = 99;
        assertArrayEquals(hostId(5), r.hostId());
        assertThrows(IllegalArgumentException.class, () -> new Registrant(1, false, new byte[8], 2));
    }

    /** A device with {@code registrants} registrants that fills each Reservation Report buffer as a controller would. */
    private static final class FakeController implements NvmePassthrough.Submitter {
        final List<Command> commands = new ArrayList<>();
        final List<Long> sizes = new ArrayList<>();
        int registrants;
        int addPerReport;

        FakeController(int registrants) {
            this.registrants = registrants;
        }

        @Override
        public int submit(Queue queue, Command command, MemorySegment data) {
            assertEquals(Queue.IO, queue);
            commands.add(command);
            sizes.add(data.byteSize());
            // The controller transfers min(NUMD+1 dwords, report size) bytes.
            Fixture full = report(64 + 64 * registrants, 77, 1, false, registrants, registrants);
            long bytes = Math.min((command.cdw10() + 1L) * 4, full.bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(full.bytes), 0, data, 0, bytes);
            registrants += addPerReport;
            return 0;
        }
    }

    @Test
    void reportThatFitsTakesOneCommand() throws IOException {
        FakeController c = new FakeController(63); // 64 + 63 * 64 = 4096
        ReservationStatus s = NvmePassthrough.reservationReport(c, 5);
        assertEquals(63, s.registrants().size());
        assertEquals(List.of(Command.reservationReport(5, 4096)), c.commands);
        assertEquals(List.of(4096L), c.sizes);
    }

    @Test
    void reportWithMoreRegistrantsThanFitIsRetriedOnce() throws IOException {
        FakeController c = new FakeController(100);
        ReservationStatus s = NvmePassthrough.reservationReport(c, 5);
        assertEquals(100, s.registrants().size());
        assertEquals(0xabc0_0000_0000_0000L + 99, s.registrants().get(99).key());
        assertEquals(List.of(Command.reservationReport(5, 4096), Command.reservationReport(5, 64 + 64 * 100)),
                c.commands);
        assertEquals(List.of(4096L, 6464L), c.sizes);
    }

    @Test
    void registrantsAddedBetweenTheTwoReportsFail() {
        FakeController c = new FakeController(100);
        c.addPerReport = 1;
        IOException e = assertThrows(IOException.class, () -> NvmePassthrough.reservationReport(c, 5));
        assertEquals("Reservation Report of namespace 5: 100 registrants became 101 between two reports",
                e.getMessage());
        assertEquals(2, c.commands.size());
    }

    @Test
    void statusException() {
        NvmeStatusException conflict = new NvmeStatusException("NVME_IOCTL_IO_CMD opcode 0x1 nsid 1 fd 4", 0x4083);
        assertTrue(conflict.reservationConflict());
        assertEquals(0x4083, conflict.status());
        assertEquals(0, conflict.statusCodeType());
        assertEquals(0x83, conflict.statusCode());
        assertEquals("NVME_IOCTL_IO_CMD opcode 0x1 nsid 1 fd 4: NVMe status 0x4083 (SCT 0, SC 0x83, reservation"
                + " conflict, do not retry)", conflict.getMessage());
        NvmeStatusException invalidOpcode = new NvmeStatusException("x", 0x0001);
        assertFalse(invalidOpcode.reservationConflict());
        assertFalse(new NvmeStatusException("x", 0x0183).reservationConflict(), "SCT 1, SC 0x83 is another status");
    }

    @Test
    void prStatusesBecomeErrnos() {
        assertEquals(Errnos.EBADE, PrIoctls.errnoOfStatus(PrIoctls.PR_STS_RESERVATION_CONFLICT));
        assertEquals(Errnos.EBADE, PrIoctls.errnoOfStatus(0x83), "an NVMe conflict passed through");
        assertEquals(Errnos.EIO, PrIoctls.errnoOfStatus(PrIoctls.PR_STS_IOERR));
        assertEquals(Errnos.EIO, PrIoctls.errnoOfStatus(0x10000));
    }
}
