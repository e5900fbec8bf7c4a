package org.diskhost.backend.vhd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.UUID;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * One image file of a virtual disk (fixed VHD, dynamic VHD or VHDX), possibly one link of a differencing chain. This
 * is the seam between the format parsers and the disk that serves a chain: a format knows only its own file, the
 * chain disk knows only this interface.
 *
 * <p>All positions and lengths are bytes of the virtual disk, multiples of {@link #logicalSectorSize()}. Methods
 * block; they are safe to call from several threads at once, and an implementation serializes its own metadata
 * updates (block allocation, bitmaps). Malformed content is reported as {@link ImageFormatException}, never as a
 * wrong read.
 */
public interface ImageFile extends Closeable {
    /** The format, for inspect output and errors: {@code "vhd-fixed"}, {@code "vhd-dynamic"}, {@code "vhdx"}... */
    String format();

    /** The size of the virtual disk in bytes. */
    long virtualSize();

    /** 512 for VHD; 512 or 4096 for VHDX. */
    int logicalSectorSize();

    int physicalSectorSize();

    /**
     * The disk's identity, for {@code DiskIo.diskId}: the VHD footer's unique id, the VHDX page 83 data; null for a
     * file that has none (raw).
     */
    UUID diskId();

    /**
     * The id a differencing child records to name this file as its parent: the VHD footer's unique id, the VHDX
     * header's data write GUID; null for a file that cannot be a parent (raw). A child whose recorded id differs
     * from its parent's is refused.
     */
    UUID linkageId();

    /** The parent this image is a difference to, or empty for a complete image. */
    Optional<ParentReference> parent();

    /** Whether the file was opened read-only (always for a parent). */
    boolean readOnly();

    /**
     * The state of the virtual bytes starting at {@code offset}: the longest run of at most {@code maxLength}
     * bytes that share one {@link Extent.State}. The run length is a positive multiple of the logical sector size.
     */
    Extent extentAt(long offset, long maxLength) throws IOException;

    /** Reads bytes that {@link #extentAt} reports {@code PRESENT} into {@code dst} (position to limit). */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src} (position to limit) at {@code offset}, allocating blocks and marking the sectors present. */
    void write(long offset, ByteBuffer src) throws IOException;

    /**
     * Deallocates the whole blocks inside {@code [offset, offset + length)}, as the format allows; partial blocks at
     * either end are left alone. In a differencing image a deallocated block shows the parent again.
     *
     * @return the bytes deallocated
     */
    long deallocate(long offset, long length) throws IOException;

    /** Makes every completed write durable, data before the metadata that points at it. */
    void flush() throws IOException;

    /**
     * The allocation granularity in bytes: {@link #deallocate} frees only whole, aligned blocks of this size. Zero
     * (the default) for a file that cannot deallocate anything (fixed VHD, raw): its {@code deallocate} returns 0.
     */
    default int blockSize() {
        return 0;
    }

    /** One run of bytes with one state. */
    record Extent(long length, State state) {
        public enum State {
            /** Data in this file. */
            PRESENT,
            /** Not in this file: read the parent, or zeros when there is none. */
            ABSENT,
            /** Known to be zero in this file; the parent is not consulted. */
            ZERO
        }
    }

    /**
     * Where a differencing image's parent is: the candidate paths in the order to try them (relative to the child's
     * directory first, then absolute), and the linkage id the parent must have.
     */
    record ParentReference(java.util.List<String> candidatePaths, UUID linkageId) {
    }
}
