package org.diskhost.backend.file;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;

/**
 * File I/O through {@link Posix}: one {@code preadv}/{@code pwritev2} per request (per {@link Posix#IOV_MAX}
 * segments) straight from and into the caller's native memory, per-write {@code RWF_DSYNC} for FUA, hole punching
 * for unmap, and O_DIRECT when asked.
 */
final class NativeFileIo implements FileIo {
    private final Path path;
    private final int fd;
    private final boolean direct;
    private final boolean canPunchHoles;

    private NativeFileIo(Path path, int fd, boolean direct, boolean canPunchHoles) {
        this.path = path;
        this.fd = fd;
        this.direct = direct;
        this.canPunchHoles = canPunchHoles;
    }

    /** Opens {@code path}; probes hole punching on writable files. */
    static NativeFileIo open(Path path, boolean readOnly, boolean direct) throws IOException {
        int flags = (readOnly ? Libc.O_RDONLY : Libc.O_RDWR) | (direct ? Libc.O_DIRECT : 0);
        int fd = Posix.open(path.toString(), flags);
        boolean punch = false;
        if (!readOnly) {
            try {
                // Harmless: one byte past the end, and KEEP_SIZE leaves the length alone.
                Posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, Files.size(path), 1);
                punch = true;
            } catch (ErrnoException e) {
                punch = false; // EOPNOTSUPP and friends: this file system cannot punch holes
            }
        }
        return new NativeFileIo(path, fd, direct, punch);
    }

    @Override
    public String name() {
        return direct ? "threads (O_DIRECT)" : "threads";
    }

    /** The descriptor, for io_uring operations on the same file. */
    int fd() {
        return fd;
    }

    @Override
    public long size() throws IOException {
        return Files.size(path);
    }

    @Override
    public boolean needsNativeMemory() {
        return true;
    }

    @Override
    public void read(List<MemorySegment> segments, long offset) throws IOException {
        transfer(segments, offset, false, false);
    }

    @Override
    public void write(List<MemorySegment> segments, long offset, boolean dsync) throws IOException {
        transfer(segments, offset, true, dsync);
    }

    /**
     * Per-thread native memory for one vectored call: the errno slot and an iovec array of {@link Posix#IOV_MAX}
     * entries. The disk's I/O threads are a fixed pool, so this is allocated once per thread, not per request.
     */
    private record Scratch(MemorySegment callState, MemorySegment iov) {
        static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(() -> {
            Arena arena = Arena.ofAuto();
            return new Scratch(Libc.callState(arena), arena.allocate(Posix.IOVEC, Posix.IOV_MAX));
        });
    }

    private void transfer(List<MemorySegment> segments, long offset, boolean write, boolean dsync)
            throws IOException {
        Scratch scratch = Scratch.PER_THREAD.get();
        MemorySegment state = scratch.callState();
        MemorySegment iov = scratch.iov();
        SegmentCursor cursor = new SegmentCursor(segments);
        long position = offset;
        while (!cursor.done()) {
            List<MemorySegment> batch = cursor.next(Posix.IOV_MAX);
            int count = batch.size();
            for (int i = 0; i < count; i++) {
                long at = i * Posix.IOVEC.byteSize();
                iov.set(ValueLayout.ADDRESS, at, batch.get(i));
                iov.set(ValueLayout.JAVA_LONG, at + ValueLayout.ADDRESS.byteSize(), batch.get(i).byteSize());
            }
            long n = write ? Posix.pwritev2(state, fd, iov, count, position, dsync ? Posix.RWF_DSYNC : 0)
                    : Posix.preadv(state, fd, iov, count, position);
            if (n == 0) {
                throw nothingTransferred(path, write, position);
            }
            position += n;
            cursor.advance(n);
        }
    }

    /**
     * Reads {@code segments} (at most {@link Posix#IOV_MAX}) at {@code offset} with one {@code preadv2(RWF_NOWAIT)}
     * on the calling thread, if the page cache holds all of it: a copy that never waits for the device. False when
     * it does not (EAGAIN, a short read, or a kernel without RWF_NOWAIT); the buffers' content is then undefined and
     * the caller reads them the usual way.
     */
    boolean readCached(List<MemorySegment> segments, long offset) {
        if (direct || segments.size() > Posix.IOV_MAX) {
            return false;
        }
        Scratch scratch = Scratch.PER_THREAD.get();
        long length = 0;
        for (int i = 0; i < segments.size(); i++) {
            MemorySegment segment = segments.get(i);
            long at = i * Posix.IOVEC.byteSize();
            scratch.iov().set(ValueLayout.ADDRESS, at, segment);
            scratch.iov().set(ValueLayout.JAVA_LONG, at + ValueLayout.ADDRESS.byteSize(), segment.byteSize());
            length += segment.byteSize();
        }
        return Posix.preadv2(scratch.callState(), fd, scratch.iov(), segments.size(), offset, Posix.RWF_NOWAIT)
                == length;
    }

    /** A transfer that moved no bytes: for a read, the file ended before the disk does. */
    static IOException nothingTransferred(Path path, boolean write, long position) {
        if (write) {
            return new IOException("a write at " + position + " of " + path + " wrote nothing");
        }
        return new EOFException("end of file at byte " + position + " of " + path
                + ": the file is shorter than the disk");
    }

    @Override
    public void sync() throws IOException {
        Posix.sync(fd, true);
    }

    @Override
    public boolean canPunchHoles() {
        return canPunchHoles;
    }

    @Override
    public void punchHole(long offset, long length) throws IOException {
        Posix.fallocate(fd, Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, offset, length);
    }

    @Override
    public Optional<Run> runAt(long offset, long limit) throws IOException {
        MemorySegment state = Scratch.PER_THREAD.get().callState(); // no arena per call: a map makes many
        long data = Posix.seek(state, fd, offset, Posix.SEEK_DATA);
        if (data < 0 || data > offset) {
            return Optional.of(new Run(true, data < 0 ? limit : Math.min(data, limit)));
        }
        long hole = Posix.seek(state, fd, offset, Posix.SEEK_HOLE);
        return Optional.of(new Run(false, hole < 0 ? limit : Math.min(hole, limit)));
    }

    @Override
    public void close() throws IOException {
        Libc.close(fd);
    }
}
