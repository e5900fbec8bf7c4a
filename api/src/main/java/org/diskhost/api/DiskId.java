package org.diskhost.api;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A disk's 16-byte identity, stable for the life of the disk. Frontends may show it to guests (NVMe NSGUID, SCSI
 * VPD page 0x83), so a backend reports one only where the backing store has a natural, persistent one.
 */
public record DiskId(byte[] bytes) {
    public static final int LENGTH = 16;

    public DiskId {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a disk id has 16 bytes, not " + bytes.length);
        }
        bytes = bytes.clone();
    }

    /** The 16 bytes, as stored. */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Parses 32 hex digits. */
    public static DiskId ofHex(String hex) {
        return new DiskId(HexFormat.of().parseHex(hex));
    }

    /** 32 lowercase hex digits. */
    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DiskId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
