package org.diskhost.backend.vhd;

/** A VHD file of any type: what a differencing child needs of its parent (the footer's id, timestamp, geometry). */
sealed interface VhdFile extends ImageFile permits FixedVhd, DynamicVhd {
    /** The footer as read when the file was opened. */
    VhdFooter footer();
}
