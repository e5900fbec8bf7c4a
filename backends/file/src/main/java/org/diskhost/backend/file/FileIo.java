package org.diskhost.backend.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

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

    /** A run of bytes that is all data or all hole, ending at byte {@code end} (exclusive). */
    record Run(boolean hole, long end) {
    }

    /**
     * The run that starts at byte {@code offset}, cut at {@code limit}; empty when the engine cannot tell holes from
     * data (the caller then treats everything as data).
     */
    default Optional<Run> runAt(long offset, long limit) throws IOException {
        return Optional.empty();
    }

    @Override
    void close() throws IOException;
}
