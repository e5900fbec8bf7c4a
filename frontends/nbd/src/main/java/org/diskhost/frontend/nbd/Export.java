package org.diskhost.frontend.nbd;

import java.util.Objects;

import org.diskhost.api.Disk;

/**
 * A disk served under an export name.
 *
 * @param name the export name clients ask for
 * @param disk the disk behind it
 * @param readOnly whether the export refuses writes (the disk itself may be writable)
 * @param description a human-readable description for {@code NBD_OPT_LIST} and {@code NBD_INFO_DESCRIPTION}
 * @param writes the gate that orders the disk's writes around read-modify-write cycles, shared by every export of
 *        the disk
 */
record Export(String name, Disk disk, boolean readOnly, String description, WriteGate writes) {
    Export {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(writes, "writes");
    }

    /** Whether clients can write: the export allows it and so does the disk. */
    boolean writable() {
        return !readOnly && !disk.isReadOnly();
    }

    /** Whether {@code other} serves the same disk under the same name and access (descriptions may differ). */
    boolean sameAs(Export other) {
        return other != null && name.equals(other.name) && disk == other.disk && readOnly == other.readOnly;
    }

    /** The export size in bytes. */
    long size() {
        return disk.sectorCount() << disk.sectorShift();
    }
}
