package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Positional I/O on one open file. Every transfer is complete when it returns: short transfers are continued, and
 * an end of file in the middle of a read is an error. Methods block; the disk calls them on its I/O threads.
 */
interface FileIo extends AutoCloseable {

    /** The engine's name, for inspect output. */
    String name();

    /** The current file length in bytes. */
    long size() throws IOException;

    /** Whether segments passed in must be native memory (heap memory is then bounced by the caller). */
    boolean needsNativeMemory();

    /** Fills {@code segments}, in order, from the file at byte {@code offset}. */
    void read(List<MemorySegment> segments, long offset) throws IOException;

    /** Writes {@code segments}, in order, at byte {@code offset}; with {@code dsync}, durably (FUA). */
    void write(List<MemorySegment> segments, long offset, boolean dsync) throws IOException;

    /** Makes every completed write durable, file metadata included. */
    void sync() throws IOException;

    /** Whether {@link #punchHole} works on this file. */
    boolean canPunchHoles();

    /** Deallocates {@code length} bytes at {@code offset}, keeping the file size; they then read as zeros. */
    void punchHole(long offset, long length) throws IOException;

    @Override
    void close() throws IOException;
}
