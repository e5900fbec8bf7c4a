package org.diskhost.backend.vhd;

import java.util.UUID;
import org.diskhost.format.vhd.VhdFooter;

/**
 * A VHD file of any type: what a differencing child needs of its parent (the footer's id, timestamp, geometry). The
 * footer also gives what every VHD has alike: the size, 512-byte sectors, and the unique id as identity and linkage.
 */
sealed interface VhdFile extends ImageFile permits FixedVhd, DynamicVhd {
    /** The footer as read when the file was opened. */
    VhdFooter footer();

    @Override
    default long virtualSize() {
        return footer().currentSize();
    }

    @Override
    default int logicalSectorSize() {
        return 512;
    }

    @Override
    default int physicalSectorSize() {
        return 512;
    }

    @Override
    default UUID diskId() {
        return footer().uniqueId();
    }

    @Override
    default UUID linkageId() {
        return footer().uniqueId();
    }
}
