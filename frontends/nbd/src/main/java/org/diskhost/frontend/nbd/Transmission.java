package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.frontend.nbd.BufferPool.Buffer;
import org.diskhost.frontend.nbd.Handshake.ProtocolViolation;
import org.diskhost.frontend.nbd.Handshake.Session;
import org.diskhost.frontend.nbd.Protocol.Command;

/**
 * The transmission phase of one connection: reads requests, starts each on the disk at once, and lets the
 * {@link ReplyWriter} send the replies as they complete, in any order.
 *
 * <p>Requests are checked before the disk sees them, with the errors the protocol names: a range past the end is
 * {@code EINVAL} ({@code ENOSPC} for writes), a write to a read-only export {@code EPERM}, a payload above the maximum
 * {@code EINVAL} (the payload is read and dropped, so the connection goes on). Only a broken framing (bad magic, a
 * closed socket) ends the connection.
 *
 * <p>Any byte offset and length is served (the advertised minimum block size is 1). A read covers the whole sectors
 * and sends the bytes asked for; a write or write-zeroes that covers part of a sector is a read-modify-write of it;
 * a trim drops only the whole sectors it covers (the protocol lets a server ignore the rest). Every write of the disk
 * (from any connection) goes through the export's {@link WriteGate}, so that a read-modify-write loses no
 * concurrent write to its sectors; aligned writes pay one compare-and-set and one decrement for that.
 */
final class Transmission {
    /** Requests in flight per connection; the reader stops reading beyond this. */
    static final int MAX_REQUESTS = 128;
    /** The unit of write-zeroes and cache requests, so that they need no large buffers. */
    private static final int ZERO_CHUNK = 1 << 20;
    private static final MemorySegment ZEROES = Arena.global().allocate(ZERO_CHUNK, 4096);

    private final Session session;
    private final Export export;
    private final Disk disk;
    private final int sectorShift;
    private final long sectorMask;
    private final ChannelInput in;
    private final ReplyWriter writer;
    private final BufferPool pool;
    private final int maxPayload;
    private final Semaphore inFlight = new Semaphore(MAX_REQUESTS);

    Transmission(Session session, ChannelInput in, ReplyWriter writer, BufferPool pool, int maxPayload) {
        this.session = session;
        this.export = session.export();
        this.disk = export.disk();
        this.sectorShift = disk.sectorShift();
        this.sectorMask = disk.sectorSize() - 1;
        this.in = in;
        this.writer = writer;
        this.pool = pool;
        this.maxPayload = maxPayload;
    }

    /**
     * Serves requests until the client disconnects, then waits for every request in flight to be answered.
     *
     * @throws IOException when the connection breaks or the client breaks the framing
     */
    void run() throws IOException, InterruptedException {
        try {
            while (in.await(Protocol.REQUEST_HEADER_SIZE)) {
                int magic = in.readInt();
                if (magic != Protocol.REQUEST_MAGIC) {
                    throw new ProtocolViolation("bad request magic 0x" + Integer.toHexString(magic));
                }
                int flags = in.readUnsignedShort();
                int type = in.readUnsignedShort();
                long cookie = in.readLong();
                long offset = in.readLong();
                long length = Integer.toUnsignedLong(in.readInt());
                if (type == Command.DISC.code) {
                    return;
                }
                inFlight.acquire();
                boolean started = false;
                try {
                    dispatch(new Request(cookie, Command.of(type), type, flags, offset, length));
                    started = true;
                } finally {
                    if (!started) {
                        inFlight.release();
                    }
                }
            }
        } finally {
            inFlight.acquireUninterruptibly(MAX_REQUESTS); // every request answered (or dropped) and its buffer back
        }
    }

    /** One request; {@code command} is null for an unknown type. */
    private record Request(long cookie, Command command, int type, int flags, long offset, long length) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    private void dispatch(Request r) throws IOException, InterruptedException {
        if (r.command() == null) {
            fail(r, NbdError.EINVAL, "unknown command " + r.type());
            return;
        }
        if ((r.flags() & ~Protocol.CMD_FLAGS_KNOWN) != 0) {
            if (r.command() == Command.WRITE) {
                in.skip(r.length());
            }
            fail(r, NbdError.EINVAL, "unknown command flags 0x" + Integer.toHexString(r.flags()));
            return;
        }
        switch (r.command()) {
            case READ -> read(r);
            case WRITE -> write(r);
            case FLUSH -> complete(r, disk.syncCache(), false);
            case TRIM -> trim(r);
            case CACHE -> cache(r);
            case WRITE_ZEROES -> writeZeroes(r);
            case BLOCK_STATUS -> blockStatus(r);
            case DISC -> throw new IllegalStateException("handled by the reader");
        }
    }

    private void read(Request r) throws InterruptedException {
        if (r.length() > maxPayload) {
            fail(r, NbdError.EINVAL, "a read of " + r.length() + " bytes exceeds the maximum of " + maxPayload);
            return;
        }
        if (!inRange(r)) {
            fail(r, NbdError.EINVAL, "the read ends past the end of the export");
            return;
        }
        if (r.length() == 0) {
            succeed(r);
            return;
        }
        long first = r.offset() & ~sectorMask;
        long covering = roundUp(r.offset() + r.length()) - first;
        if (!pool.canServe(covering)) {
            fail(r, NbdError.EINVAL, "an unaligned read of " + r.length() + " bytes is too large");
            return;
        }
        Buffer buffer = pool.acquire(covering);
        disk.readVectored(RequestBuffers.of(buffer.segment(), true), first >>> sectorShift).whenComplete((v, t) -> {
            if (t != null) {
                pool.release(buffer);
                failed(r, t, false);
            } else {
                MemorySegment data = buffer.segment().asSlice(r.offset() - first, r.length());
                ByteBuffer header = session.structuredReplies()
                        ? Replies.dataHeader(r.cookie(), r.offset(), (int) r.length())
                        : Replies.simple(r.cookie(), null);
                send(new ByteBuffer[] {header, data.asByteBuffer()}, () -> pool.release(buffer));
            }
        });
    }

    private void write(Request r) throws IOException, InterruptedException {
        String refusal = null;
        NbdError error = null;
        if (r.length() > maxPayload) {
            error = NbdError.EINVAL;
            refusal = "a write of " + r.length() + " bytes exceeds the maximum of " + maxPayload;
        } else if (!export.writable()) {
            error = NbdError.EPERM;
            refusal = "the export is read-only";
        } else if (!inRange(r)) {
            error = NbdError.ENOSPC;
            refusal = "the write ends past the end of the export";
        } else if (!pool.canServe(roundUp(r.offset() + r.length()) - (r.offset() & ~sectorMask))) {
            error = NbdError.EINVAL;
            refusal = "an unaligned write of " + r.length() + " bytes is too large";
        }
        if (error != null) {
            in.skip(r.length()); // the payload is still on the wire: drop it to stay in step
            fail(r, error, refusal);
            return;
        }
        if (r.length() == 0) {
            succeed(r);
            return;
        }
        long first = r.offset() & ~sectorMask;
        long covering = roundUp(r.offset() + r.length()) - first;
        Buffer buffer = pool.acquire(covering);
        MemorySegment whole = buffer.segment();
        try {
            in.readFully(whole.asSlice(r.offset() - first, r.length()));
        } catch (IOException e) {
            pool.release(buffer);
            throw e;
        }
        boolean fua = r.has(Protocol.CMD_FLAG_FUA);
        long sector = first >>> sectorShift;
        long count = covering >>> sectorShift;
        WriteGate gate = export.writes();
        boolean fast = covering == r.length() && gate.tryEnter(); // aligned, and no read-modify-write around
        CompletableFuture<Void> done;
        if (fast) {
            try {
                done = disk.writeVectored(RequestBuffers.of(whole, false), sector, fua);
            } catch (RuntimeException e) {
                done = CompletableFuture.failedFuture(e); // leave() must still run
            }
        } else if (covering == r.length()) {
            done = gate.write(sector, count, () -> disk.writeVectored(RequestBuffers.of(whole, false), sector, fua));
        } else {
            long end = r.offset() + r.length();
            done = gate.readModifyWrite(sector, count, () -> fillEdges(whole, first, r.offset(), end)
                    .thenCompose(v -> disk.writeVectored(RequestBuffers.of(whole, false), sector, fua)));
        }
        done.whenComplete((v, t) -> {
            if (fast) {
                gate.leave();
            }
            pool.release(buffer);
            complete(r, t, true);
        });
    }

    /**
     * Completes an unaligned write in {@code covering} (the whole sectors from byte {@code first}): the bytes before
     * {@code from} and from {@code to} to the end of the last sector are read from the disk.
     */
    private CompletableFuture<Void> fillEdges(MemorySegment covering, long first, long from, long to) {
        int sectorSize = (int) (sectorMask + 1);
        long lastSector = covering.byteSize() - sectorSize; // offset of the last sector within covering
        boolean head = from != first;
        boolean tail = to != first + covering.byteSize();
        MemorySegment edges = Arena.ofAuto().allocate(2L * sectorSize, 4096);
        CompletableFuture<Void> read = CompletableFuture.completedFuture(null);
        if (head) {
            read = disk.readVectored(RequestBuffers.of(edges.asSlice(0, sectorSize), true), first >>> sectorShift);
        }
        if (tail && !(head && lastSector == 0)) {
            read = read.thenCompose(v -> disk.readVectored(
                    RequestBuffers.of(edges.asSlice(sectorSize, sectorSize), true),
                    (first + lastSector) >>> sectorShift));
        }
        return read.thenRun(() -> {
            if (head) {
                MemorySegment.copy(edges, 0, covering, 0, from - first);
            }
            if (tail) {
                long tailSource = head && lastSector == 0 ? 0 : sectorSize;
                long keepFrom = to - first - lastSector; // offset within the last sector
                MemorySegment.copy(edges, tailSource + keepFrom, covering, lastSector + keepFrom,
                        sectorSize - keepFrom);
            }
        });
    }

    private void trim(Request r) {
        if (!export.writable()) {
            fail(r, NbdError.EPERM, "the export is read-only");
            return;
        }
        if (!inRange(r)) {
            fail(r, NbdError.EINVAL, "the trim ends past the end of the export");
            return;
        }
        // Only whole sectors are trimmed: the protocol lets a server round a trim inwards.
        long firstSector = roundUp(r.offset()) >>> sectorShift;
        long endSector = (r.offset() + r.length()) >>> sectorShift;
        CompletableFuture<Void> done = endSector > firstSector
                ? export.writes().write(firstSector, endSector - firstSector,
                        () -> disk.unmap(firstSector, endSector - firstSector, false))
                : CompletableFuture.completedFuture(null);
        complete(r, withFua(r, done), true);
    }

    private void writeZeroes(Request r) {
        if (!export.writable()) {
            fail(r, NbdError.EPERM, "the export is read-only");
            return;
        }
        if (!inRange(r)) {
            fail(r, NbdError.ENOSPC, "the write-zeroes ends past the end of the export");
            return;
        }
        // Unmapping is the fast way when unmapped sectors read as zeros and the client allows holes.
        boolean unmap = disk.unmapBehavior() == UnmapBehavior.ZEROES && !r.has(Protocol.CMD_FLAG_NO_HOLE);
        if (r.has(Protocol.CMD_FLAG_FAST_ZERO) && !unmap) {
            fail(r, NbdError.ENOTSUP, "zeroing this export is no faster than writing");
            return;
        }
        if (r.length() == 0) {
            succeed(r);
            return;
        }
        // Three parts on disjoint sectors, run at once: the partial head sector, the whole sectors, the partial tail.
        long end = r.offset() + r.length();
        long firstWhole = roundUp(r.offset());
        long endWhole = end & ~sectorMask;
        long headEnd = Math.min(end, firstWhole);
        long tailStart = Math.max(endWhole, headEnd);
        boolean fua = r.has(Protocol.CMD_FLAG_FUA);
        CompletableFuture<Void> whole = CompletableFuture.completedFuture(null);
        if (endWhole > firstWhole) {
            long sector = firstWhole >>> sectorShift;
            long count = (endWhole - firstWhole) >>> sectorShift;
            whole = export.writes().write(sector, count, () -> unmap
                    ? withFua(r, disk.unmap(sector, count, false))
                    : writeZeroSectors(sector, count, fua));
        }
        complete(r, CompletableFuture.allOf(zeroPartial(r.offset(), headEnd, fua), whole,
                zeroPartial(tailStart, end, fua)), true);
    }

    /** Zeroes exactly {@code [from, to)}, which lies within one sector, by read-modify-write. */
    private CompletableFuture<Void> zeroPartial(long from, long to, boolean fua) {
        if (to <= from) {
            return CompletableFuture.completedFuture(null);
        }
        long first = from & ~sectorMask;
        MemorySegment sector = Arena.ofAuto().allocate(sectorMask + 1, 4096);
        return export.writes().readModifyWrite(first >>> sectorShift, 1, () -> fillEdges(sector, first, from, to)
                .thenCompose(v -> disk.writeVectored(RequestBuffers.of(sector, false), first >>> sectorShift, fua)));
    }

    /** Writes zeros over whole sectors, a chunk at a time from one shared zero buffer. */
    private CompletableFuture<Void> writeZeroSectors(long sector, long count, boolean fua) {
        long chunkSectors = ZERO_CHUNK >>> sectorShift;
        long step = Math.min(count, chunkSectors);
        CompletableFuture<Void> first = disk.writeVectored(
                RequestBuffers.of(ZEROES.asSlice(0, step << sectorShift), false), sector, fua);
        return count == step ? first : first.thenCompose(v -> writeZeroSectors(sector + step, count - step, fua));
    }

    private void cache(Request r) throws InterruptedException {
        if (!inRange(r)) {
            fail(r, NbdError.EINVAL, "the cache request ends past the end of the export");
            return;
        }
        if (r.length() == 0) {
            succeed(r);
            return;
        }
        // Read the range (and drop the data), so that a backend with a cache has it warm.
        long first = r.offset() >>> sectorShift;
        long count = (roundUp(r.offset() + r.length()) >>> sectorShift) - first;
        Buffer buffer = pool.acquire(Math.min(count << sectorShift, ZERO_CHUNK));
        prefetch(buffer.segment(), first, count).whenComplete((v, t) -> {
            pool.release(buffer);
            complete(r, t, false);
        });
    }

    private CompletableFuture<Void> prefetch(MemorySegment scratch, long sector, long count) {
        long step = Math.min(count, scratch.byteSize() >>> sectorShift);
        CompletableFuture<Void> read = disk.readVectored(
                RequestBuffers.of(scratch.asSlice(0, step << sectorShift), true), sector);
        return count == step ? read : read.thenCompose(v -> prefetch(scratch, sector + step, count - step));
    }

    private void blockStatus(Request r) {
        if (!session.allocationContext()) {
            fail(r, NbdError.EINVAL, "no metadata context was selected for this export");
            return;
        }
        if (r.length() == 0 || !inRange(r)) {
            fail(r, NbdError.EINVAL, "the block status range is empty or ends past the end of the export");
            return;
        }
        long first = r.offset() >>> sectorShift;
        long count = (roundUp(r.offset() + r.length()) >>> sectorShift) - first;
        disk.allocation(first, count).whenComplete((extents, t) -> {
            if (t != null) {
                failed(r, t, false);
                return;
            }
            boolean one = r.has(Protocol.CMD_FLAG_REQ_ONE);
            int[] descriptors = new int[2 * (one ? 1 : extents.size())];
            int n = 0;
            long position = r.offset();
            long end = r.offset() + r.length();
            long sector = first;
            for (AllocationExtent extent : extents) {
                sector += extent.sectorCount();
                long extentEnd = Math.min(sector << sectorShift, end);
                int state = switch (extent.allocation()) {
                    case DATA -> 0;
                    case ZERO -> Protocol.STATE_ZERO;
                    case HOLE -> Protocol.STATE_HOLE | Protocol.STATE_ZERO;
                };
                if (n > 0 && descriptors[2 * n - 1] == state) {
                    descriptors[2 * n - 2] += (int) (extentEnd - position);
                } else {
                    descriptors[2 * n] = (int) (extentEnd - position);
                    descriptors[2 * n + 1] = state;
                    n++;
                }
                position = extentEnd;
                if (one || position >= end) {
                    break;
                }
            }
            send(new ByteBuffer[] {Replies.blockStatus(r.cookie(), Protocol.BASE_ALLOCATION_ID, descriptors, n)},
                    () -> { });
        });
    }

    private CompletableFuture<Void> withFua(Request r, CompletableFuture<Void> done) {
        return r.has(Protocol.CMD_FLAG_FUA) ? done.thenCompose(v -> disk.syncCache()) : done;
    }

    private boolean inRange(Request r) {
        long size = export.size();
        return r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
    }

    private long roundUp(long bytes) {
        return (bytes + sectorMask) & ~sectorMask;
    }

    private void complete(Request r, CompletableFuture<?> request, boolean writing) {
        request.whenComplete((v, t) -> complete(r, t, writing));
    }

    private void complete(Request r, Throwable failure, boolean writing) {
        if (failure == null) {
            succeed(r);
        } else {
            failed(r, failure, writing);
        }
    }

    private void succeed(Request r) {
        send(new ByteBuffer[] {session.structuredReplies() ? Replies.none(r.cookie())
                : Replies.simple(r.cookie(), null)}, () -> { });
    }

    private void failed(Request r, Throwable failure, boolean writing) {
        DiskError error = DiskError.of(failure);
        fail(r, NbdError.of(error, writing), error.message());
    }

    private void fail(Request r, NbdError error, String message) {
        send(new ByteBuffer[] {session.structuredReplies() ? Replies.error(r.cookie(), error, message)
                : Replies.simple(r.cookie(), error)}, () -> { });
    }

    /**
     * Sends a reply; the request stops counting as in flight once it is on the wire (or dropped). The reply of the
     * only request in flight goes out from this thread, sparing the client a hand-off; with more in flight, the
     * writer thread gathers several replies into one write, which costs the disk's threads less.
     */
    private void send(ByteBuffer[] parts, Runnable done) {
        boolean alone = inFlight.availablePermits() >= MAX_REQUESTS - 1;
        writer.send(parts, () -> {
            try {
                done.run();
            } finally {
                inFlight.release();
            }
        }, alone);
    }
}
