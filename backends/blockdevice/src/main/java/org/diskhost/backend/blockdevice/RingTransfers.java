package org.diskhost.backend.blockdevice;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.nativeio.uring.Uring;

/**
 * The uring engine: every operation goes to the disk's own io_uring from the caller and completes on the ring's
 * platform thread. One ring per disk, as in the file backend: it opens and closes with the disk, and one disk's
 * queue never holds up another's.
 */
final class RingTransfers implements Transfers {
    /** Submission entries per disk: more requests than this wait in the ring's queue, in order. */
    static final int ENTRIES = 128;

    private final Uring ring;
    private final int fd;

    RingTransfers(Uring ring, int fd) {
        this.ring = ring;
        this.fd = fd;
    }

    @Override
    public String describe() {
        return ring.toString();
    }

    @Override
    public CompletableFuture<Integer> read(List<MemorySegment> segments, long offset) {
        return ring.readv(fd, segments, offset);
    }

    @Override
    public CompletableFuture<Integer> write(List<MemorySegment> segments, long offset, boolean dsync) {
        return ring.writev(fd, segments, offset, dsync);
    }

    @Override
    public CompletableFuture<Void> fsync() {
        return ring.fsync(fd, false).thenApply(done -> null);
    }

    @Override
    public boolean canPunchHoles() {
        return true;
    }

    @Override
    public CompletableFuture<Void> punchHole(long offset, long length) {
        return ring.fallocate(fd, Uring.FALLOC_FL_PUNCH_HOLE | Uring.FALLOC_FL_KEEP_SIZE, offset, length)
                .thenApply(done -> null);
    }

    @Override
    public void close() {
        ring.close();
    }
}
