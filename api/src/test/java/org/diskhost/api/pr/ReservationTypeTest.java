package org.diskhost.api.pr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class ReservationTypeTest {
    /** The reference's table: SCSI code, NVMe RTYPE, Linux PR code. */
    @Test
    void wireCodesMatchTheReferenceTable() {
        int[][] table = {{0x01, 1, 1}, {0x03, 2, 2}, {0x05, 3, 3}, {0x06, 4, 4}, {0x07, 5, 5}, {0x08, 6, 6}};
        ReservationType[] types = ReservationType.values();
        assertEquals(6, types.length);
        for (int i = 0; i < types.length; i++) {
            assertEquals(table[i][0], types[i].scsiCode(), types[i].name());
            assertEquals(table[i][1], types[i].nvmeCode(), types[i].name());
            assertEquals(table[i][2], types[i].linuxCode(), types[i].name());
            assertEquals(Optional.of(types[i]), ReservationType.fromScsi(table[i][0]));
            assertEquals(Optional.of(types[i]), ReservationType.fromNvme(table[i][1]));
            assertEquals(Optional.of(types[i]), ReservationType.fromLinux(table[i][2]));
        }
        assertEquals(Optional.empty(), ReservationType.fromScsi(0x02));
        assertEquals(Optional.empty(), ReservationType.fromNvme(0));
    }

    @Test
    void capabilitiesAnswerPerType() {
        ReservationCapabilities prwrap = new ReservationCapabilities(true, true, true, true, false, false, true);
        assertTrue(prwrap.supports(ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY));
        assertFalse(prwrap.supports(ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS));
    }
}
