package org.diskhost.api;

/**
 * How a run of sectors is backed, as far as the backend knows (see {@link DiskIo#allocation}). Tools that copy or
 * map sparse disks use it to skip what reads as zeros (NBD {@code base:allocation}, {@code qemu-img map}).
 */
public enum Allocation {
    /** The sectors may hold data: stored, or the backend does not know. Reading them is the only way to tell. */
    DATA,
    /** The sectors are stored but read as zeros. */
    ZERO,
    /** The sectors are not stored (a hole) and read as zeros. */
    HOLE;

    /** Whether the sectors are known to read as zeros. */
    public boolean readsAsZeros() {
        return this != DATA;
    }
}
