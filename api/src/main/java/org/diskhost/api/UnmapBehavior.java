package org.diskhost.api;

/** What happens to the content of sectors after {@link DiskIo#unmap}. */
public enum UnmapBehavior {
    /** Content may or may not change, and need not read back as zero. */
    UNSPECIFIED,
    /** Unmap does nothing and content is unchanged: the disk reports "unmap not supported". */
    IGNORED,
    /** Unmapped sectors deterministically read back as zeros. */
    ZEROES
}
