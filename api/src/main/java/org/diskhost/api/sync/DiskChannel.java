package org.diskhost.api.sync;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.buffers.RequestBuffers;

/**
 * A blocking byte channel over a {@link Disk}, for tools that want to read and write at byte positions. Transfers
 * of whole sectors at sector-aligned positions go straight to the disk; partial sectors are read, modified and
 * written through a one-sector cache, which is written back when the channel moves to another sector, on
 * {@link #flush()} and on {@link #close()}. Every write uses FUA. Not thread-safe: one user at a time.
 *
 * <p>The channel's size is {@code sectorCount * sectorSize}; reads at or past it return -1, and writes past it fail.
 * A disk error becomes an {@link IOException} whose cause is the {@link DiskException}.
 */
public final class DiskChannel implements SeekableByteChannel {
    private final Disk disk;
    private final int sectorSize;
    private final MemorySegment cached;
    private long cachedSector = -1;
    private boolean dirty;
    private long position;
    private boolean open = true;

    private DiskChannel(Disk disk) {
        this.disk = disk;
        this.sectorSize = disk.sectorSize();
        // Automatic, not confined: backends do their I/O on their own threads.
        this.cached = Arena.ofAuto().allocate(sectorSize, 4096);
    }

    /** A channel at position 0. */
    public static DiskChannel of(Disk disk) {
        return new DiskChannel(disk);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        long size = size();
        if (position >= size) {
            return dst.hasRemaining() ? -1 : 0;
        }
        int length = (int) Math.min(dst.remaining(), size - position);
        int done = 0;
        while (done < length) {
            long sector = position / sectorSize;
            int inSector = (int) (position % sectorSize);
            int wholeBytes = inSector == 0 ? (length - done) / sectorSize * sectorSize : 0;
            int n;
            if (wholeBytes > 0) {
                flushIfCachedIn(sector, wholeBytes / sectorSize);
                MemorySegment target = MemorySegment.ofBuffer(dst.slice(dst.position(), wholeBytes));
                await(disk.readVectored(RequestBuffers.of(target, true), sector));
                dst.position(dst.position() + wholeBytes);
                n = wholeBytes;
            } else {
                load(sector);
                n = Math.min(sectorSize - inSector, length - done);
                MemorySegment.copy(cached, inSector, MemorySegment.ofBuffer(dst), 0, n);
                dst.position(dst.position() + n);
            }
            position += n;
            done += n;
        }
        return done;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        ensureOpen();
        if (disk.isReadOnly()) {
            throw new NonWritableChannelException();
        }
        int length = src.remaining();
        if (position + length > size()) {
            throw new IOException("write of " + length + " bytes at " + position + " passes the end of the disk ("
                    + size() + " bytes)", new DiskException(new DiskError.IllegalBlock()));
        }
        int done = 0;
        while (done < length) {
            long sector = position / sectorSize;
            int inSector = (int) (position % sectorSize);
            int wholeBytes = inSector == 0 ? (length - done) / sectorSize * sectorSize : 0;
            int n;
            if (wholeBytes > 0) {
                long count = wholeBytes / sectorSize;
                if (cachedSector >= sector && cachedSector < sector + count) {
                    cachedSector = -1; // about to be overwritten whole
                    dirty = false;
                }
                ByteBuffer slice = src.slice(src.position(), wholeBytes);
                await(disk.writeVectored(RequestBuffers.of(MemorySegment.ofBuffer(slice), false), sector, true));
                src.position(src.position() + wholeBytes);
                n = wholeBytes;
            } else {
                load(sector);
                n = Math.min(sectorSize - inSector, length - done);
                MemorySegment.copy(MemorySegment.ofBuffer(src), 0, cached, inSector, n);
                src.position(src.position() + n);
                dirty = true;
            }
            position += n;
            done += n;
        }
        return done;
    }

    /** Writes the cached partial sector back, if it changed. */
    public void flush() throws IOException {
        ensureOpen();
        writeBack();
    }

    @Override
    public long position() throws IOException {
        ensureOpen();
        return position;
    }

    @Override
    public DiskChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position " + newPosition);
        }
        position = newPosition;
        return this;
    }

    /** {@code sectorCount * sectorSize}. */
    @Override
    public long size() throws IOException {
        ensureOpen();
        return disk.sectorCount() * sectorSize;
    }

    /** A disk cannot be truncated. */
    @Override
    public SeekableByteChannel truncate(long size) throws IOException {
        throw new IOException("a disk cannot be truncated");
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /** Writes back the cached sector and releases the channel; the disk stays open. */
    @Override
    public void close() throws IOException {
        if (!open) {
            return;
        }
        try {
            writeBack();
        } finally {
            open = false;
        }
    }

    private void load(long sector) throws IOException {
        if (cachedSector == sector) {
            return;
        }
        writeBack();
        await(disk.readVectored(RequestBuffers.of(cached, true), sector));
        cachedSector = sector;
    }

    private void writeBack() throws IOException {
        if (dirty) {
            await(disk.writeVectored(RequestBuffers.of(cached, false), cachedSector, true));
            dirty = false;
        }
    }

    private void flushIfCachedIn(long sector, long count) throws IOException {
        if (dirty && cachedSector >= sector && cachedSector < sector + count) {
            writeBack();
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }

    private static void await(CompletableFuture<Void> request) throws IOException {
        try {
            request.join();
        } catch (RuntimeException e) {
            DiskError error = DiskError.of(e);
            throw new IOException("disk request failed: " + error.message(), new DiskException(error));
        }
    }
}
