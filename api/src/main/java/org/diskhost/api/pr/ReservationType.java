package org.diskhost.api.pr;

import java.util.Optional;

/** The six reservation types, with their codes in SCSI, NVMe (RTYPE) and the Linux PR ioctls. */
public enum ReservationType {
    WRITE_EXCLUSIVE(0x01, 1, 1),
    EXCLUSIVE_ACCESS(0x03, 2, 2),
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY(0x05, 3, 3),
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY(0x06, 4, 4),
    WRITE_EXCLUSIVE_ALL_REGISTRANTS(0x07, 5, 5),
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS(0x08, 6, 6);

    private final int scsiCode;
    private final int nvmeCode;
    private final int linuxCode;

    ReservationType(int scsiCode, int nvmeCode, int linuxCode) {
        this.scsiCode = scsiCode;
        this.nvmeCode = nvmeCode;
        this.linuxCode = linuxCode;
    }

    /** The TYPE field of SCSI PERSISTENT RESERVE IN/OUT. */
    public int scsiCode() {
        return scsiCode;
    }

    /** The RTYPE field of NVMe reservation commands. */
    public int nvmeCode() {
        return nvmeCode;
    }

    /** The {@code enum pr_type} value of the Linux PR ioctls. */
    public int linuxCode() {
        return linuxCode;
    }

    public static Optional<ReservationType> fromScsi(int code) {
        for (ReservationType t : values()) {
            if (t.scsiCode == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static Optional<ReservationType> fromNvme(int code) {
        for (ReservationType t : values()) {
            if (t.nvmeCode == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static Optional<ReservationType> fromLinux(int code) {
        for (ReservationType t : values()) {
            if (t.linuxCode == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
