package org.diskhost.api.pr;

import java.util.Arrays;
import java.util.HexFormat;

/** One registrant in a {@link ReservationReport}. */
public record RegisteredController(long key, byte[] hostId, int controllerId, boolean holdsReservation) {
    public RegisteredController {
        hostId = hostId.clone();
        if (controllerId < 0 || controllerId > 0xFFFF) {
            throw new IllegalArgumentException("controller id is 16 bits: " + controllerId);
        }
    }

    @Override
    public byte[] hostId() {
        return hostId.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegisteredController c && c.key == key && Arrays.equals(c.hostId, hostId)
                && c.controllerId == controllerId && c.holdsReservation == holdsReservation;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(key) * 31 + Arrays.hashCode(hostId) + controllerId;
    }

    @Override
    public String toString() {
        return "RegisteredController[key=" + Long.toHexString(key) + ", hostId=" + HexFormat.of().formatHex(hostId)
                + ", controllerId=" + controllerId + ", holdsReservation=" + holdsReservation + "]";
    }
}
