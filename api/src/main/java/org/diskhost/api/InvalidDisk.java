package org.diskhost.api;

/** Why {@link Disk#of} refused a backend. */
public sealed interface InvalidDisk {

    String message();

    /** The logical sector size is not a power of two, or is below 512 bytes. */
    record InvalidSectorSize(int sectorSize) implements InvalidDisk {
        public String message() {
            return "invalid sector size " + Integer.toUnsignedString(sectorSize)
                    + ": must be a power of two and at least 512";
        }
    }

    /** The physical sector size is not a power of two, or is below the logical sector size. */
    record InvalidPhysicalSectorSize(int physicalSectorSize) implements InvalidDisk {
        public String message() {
            return "invalid physical sector size " + Integer.toUnsignedString(physicalSectorSize)
                    + ": must be a power of two and at least the logical sector size";
        }
    }
}
