package org.diskhost.nativeio.uring;

import static org.diskhost.nativeio.uring.UringLayouts.CQE;
import static org.diskhost.nativeio.uring.UringLayouts.IOVEC;
import static org.diskhost.nativeio.uring.UringLayouts.RING_WORD;
import static org.diskhost.nativeio.uring.UringLayouts.SQE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.libc.Libc;

/**
 * One io_uring, owned by one platform thread.
 *
 * <h2>Threads</h2>
 * Any thread, virtual or not, may submit: {@link #readv}, {@link #writev}, {@link #fsync}, {@link #fallocate} and
 * {@link #nop} queue the operation and return at once. The ring's own platform thread ("uring-NAME") alone touches
 * the rings: it moves queued operations into submission entries and submits each at once, blocks in
 * {@code io_uring_enter} (a blocking native call would pin a virtual thread's carrier, hence a platform thread) and
 * completes the futures; what a completion's stages submit goes to the kernel before the next completion is taken. Keeping submission
 * and completion on that one thread also keeps the kernel's task work on it, so the ring is set up with those of
 * {@code IORING_SETUP_COOP_TASKRUN}, {@code SINGLE_ISSUER} and {@code DEFER_TASKRUN} that the kernel has
 * ({@link UringSupport.Available#setupFlags()}): completions never interrupt the thread, and it posts them itself
 * when it enters the kernel to wait.
 *
 * <p>Futures complete on the ring thread, so stages chained without an executor run there: they must be short and
 * must never block on another operation of the same ring (that would wait for the thread that is running them).
 *
 * <h2>Waking the ring thread</h2>
 * The ring keeps one read of an eventfd in flight. A submitter writes the eventfd only when the ring thread has said
 * it is about to sleep (a flag it sets before a last look at the queue), so a busy ring costs submitters no system
 * call; the eventfd read completing ends the thread's {@code io_uring_enter} (with {@code DEFER_TASKRUN} too: the
 * read's completion is work queued for the waiting thread, which wakes it). That is simpler than a timeout (no
 * latency, no polling) and needs no second thread touching the submission queue.
 *
 * <h2>Bounds</h2>
 * At most {@link #capacity()} operations are in the kernel at once (the submission queue's size less the wake-up
 * read); the completion queue is twice that size, so it never overflows. Further operations wait, in submission
 * order, in an unbounded queue: callers are never blocked, and bound their own outstanding requests.
 *
 * <h2>Memory</h2>
 * Buffers must be native segments and stay alive and unchanged by others until the future completes; the ring
 * builds the iovec arrays itself. Results are {@code cqe.res}: bytes transferred for reads and writes (which may be
 * short, for example at the end of a file: the caller continues), 0 otherwise. A negative result completes the
 * future with a {@link UringException} carrying the errno.
 */
public final class Uring implements AutoCloseable {
    /** The kernel's limit on iovecs in one vectored operation (UIO_MAXIOV). */
    public static final int MAX_IOVECS = 1024;
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    /** Per-write O_DSYNC ({@code rw_flags} of a write): the data is durable when the write completes (FUA). */
    public static final int RWF_DSYNC = 0x02;

    /** The most one read or write moves (Linux's MAX_RW_COUNT with 4 KiB pages): longer transfers come back short. */
    private static final int MAX_RW_COUNT = Integer.MAX_VALUE & ~4095;
    /** Iovecs kept per slot; vectored operations with more get an array of their own. */
    private static final int INLINE_IOVECS = 8;
    /** user_data of the wake-up read; slots are 0 to capacity - 1. */
    private static final long WAKE = -1L;

    private final String name;
    /** The IORING_SETUP_* bits the ring is set up with. */
    private final int setupFlags;
    private final ConcurrentLinkedQueue<Op> queue = new ConcurrentLinkedQueue<>();
    /** Set by the ring thread just before it blocks; whoever clears it owes the thread a wake-up. */
    private final AtomicBoolean sleeping = new AtomicBoolean();
    /** Guards the eventfd against being closed while a submitter writes it. */
    private final ReentrantReadWriteLock wakeLock = new ReentrantReadWriteLock();
    private final Thread thread;
    private volatile boolean closing;
    /** The ring thread has left its loop: nothing queued from now on is ever taken. */
    private volatile boolean terminated;
    private boolean eventFdOpen; // guarded by wakeLock
    // Set by the ring thread before the constructor returns (published by the ready future), then read-only.
    private int eventFd = -1;
    private int capacity;

    // The ring thread's alone.
    private Arena arena;
    private MemorySegment state;
    private int ringFd = -1;
    private MemorySegment ring;
    private MemorySegment sqes;
    private long sqTailAt;
    private long cqHeadAt;
    private long cqTailAt;
    private long cqesAt;
    private int sqMask;
    private int cqMask;
    private int sqTail;
    private int cqHead;
    private int unsubmitted;
    private Op[] slots;
    private int[] free;
    private int freeCount;
    private MemorySegment inlineIovecs;
    private MemorySegment wakeIovec;
    private boolean wakeArmed;
    private boolean wakeRetiring;

    /** Opened through {@link UringSupport.Available#open}. */
    Uring(String name, int entries, int setupFlags) throws IOException {
        if (entries < 2) {
            throw new IllegalArgumentException("a ring needs at least 2 entries, not " + entries);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.setupFlags = setupFlags;
        CompletableFuture<Void> ready = new CompletableFuture<>();
        thread = Thread.ofPlatform().name("uring-" + name).daemon(true).unstarted(() -> run(entries, ready));
        thread.start();
        try {
            ready.join();
        } catch (CompletionException e) {
            awaitThread(); // it has released what it made and is ending
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    /** Probes io_uring in this process; see {@link UringSupport}. Cheap enough to call once per backend start. */
    public static UringSupport probe() {
        return UringProbe.probe();
    }

    /** The operations the kernel holds at most at once; more wait in the ring's queue. */
    public int capacity() {
        return capacity;
    }

    /**
     * Reads into {@code buffers} in order from {@code offset} of {@code fd} ({@code IORING_OP_READV}, or
     * {@code IORING_OP_READ} for one buffer, which spares the kernel an iovec).
     *
     * @return bytes read, possibly fewer than asked (0 at end of file)
     * @throws IllegalArgumentException when {@code buffers} is empty, longer than {@link #MAX_IOVECS} or holds a heap
     *                                  segment, or {@code offset} is negative
     */
    public CompletableFuture<Integer> readv(int fd, List<MemorySegment> buffers, long offset) {
        return submit(Op.transfer(false, "readv", fd, buffers, offset, 0));
    }

    /**
     * Writes {@code buffers} in order at {@code offset} of {@code fd} ({@code IORING_OP_WRITEV}, or
     * {@code IORING_OP_WRITE} for one buffer); with {@code dsync} ({@link #RWF_DSYNC}) the data is durable when the
     * future completes.
     *
     * @return bytes written, possibly fewer than asked
     * @throws IllegalArgumentException as {@link #readv}
     */
    public CompletableFuture<Integer> writev(int fd, List<MemorySegment> buffers, long offset, boolean dsync) {
        return submit(Op.transfer(true, "writev", fd, buffers, offset, dsync ? RWF_DSYNC : 0));
    }

    /** {@code fsync(fd)}, or {@code fdatasync(fd)} when {@code dataOnly} ({@code IORING_OP_FSYNC}). */
    public CompletableFuture<Integer> fsync(int fd, boolean dataOnly) {
        return submit(new Op(UringLayouts.IORING_OP_FSYNC, dataOnly ? "fdatasync" : "fsync", fd, 0, 0, 0,
                dataOnly ? UringLayouts.IORING_FSYNC_DATASYNC : 0, null));
    }

    /**
     * {@code fallocate(fd, mode, offset, length)} ({@code IORING_OP_FALLOCATE}), for example
     * {@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}.
     */
    public CompletableFuture<Integer> fallocate(int fd, int mode, long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("fallocate range " + offset + "+" + length);
        }
        // The kernel takes the length from addr and the mode from len.
        return submit(new Op(UringLayouts.IORING_OP_FALLOCATE, "fallocate mode 0x" + Integer.toHexString(mode), fd,
                offset, length, mode, 0, null));
    }

    /** An operation that does nothing: a round trip through the ring. */
    public CompletableFuture<Integer> nop() {
        return submit(new Op(UringLayouts.IORING_OP_NOP, "nop", -1, 0, 0, 0, 0, null));
    }

    /**
     * Refuses new operations, waits until every operation accepted before completes, then releases the ring (its
     * thread ends, the rings are unmapped, the descriptors closed). Idempotent.
     *
     * @throws IllegalStateException on the ring's own thread (a completion stage), which would wait for itself
     */
    @Override
    public void close() {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("closing io_uring " + name + " from its own thread");
        }
        closing = true;
        wake();
        awaitThread();
    }

    /** Waits, uninterruptibly, until the ring's thread has ended. */
    private void awaitThread() {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "io_uring " + name + " (" + capacity + " in flight at most; setup flags: "
                + UringLayouts.setupFlagNames(setupFlags) + ")";
    }

    private CompletableFuture<Integer> submit(Op op) {
        if (closing) {
            op.future.completeExceptionally(closed());
            return op.future;
        }
        queue.add(op);
        wake();
        // The ring thread may have left its loop after the check above: then whoever removes the op fails it.
        if (terminated && queue.remove(op)) {
            op.future.completeExceptionally(closed());
        }
        return op.future;
    }

    private void wake() {
        if (sleeping.compareAndSet(true, false)) {
            wakeLock.readLock().lock();
            try {
                if (eventFdOpen) {
                    Libc.eventfdAdd(eventFd);
                }
            } finally {
                wakeLock.readLock().unlock();
            }
        }
    }

    private IOException closed() {
        return new IOException("io_uring " + name + " is closed");
    }

    // ---- The ring thread ----

    private void run(int entries, CompletableFuture<Void> ready) {
        try {
            setUp(entries);
        } catch (Throwable t) {
            terminated = true;
            release(true);
            ready.completeExceptionally(t);
            return;
        }
        ready.complete(null);
        Throwable failure = null;
        try {
            loop();
        } catch (Throwable t) {
            failure = t;
        }
        terminated = true;
        IOException reason = failure == null ? closed()
                : new IOException("io_uring " + name + " failed: " + failure.getMessage(), failure);
        // Operations are left in flight only after a failure; the kernel drops them when the ring closes.
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                finish(slots[i], reason, 0);
                slots[i] = null;
            }
        }
        for (Op op; (op = queue.poll()) != null; ) {
            op.future.completeExceptionally(reason);
        }
        release(failure == null);
    }

    private void setUp(int entries) throws IOException {
        arena = Arena.ofConfined();
        state = Libc.callState(arena);
        MemorySegment params = arena.allocate(UringLayouts.PARAMS);
        params.set(ValueLayout.JAVA_INT, UringLayouts.P_FLAGS, setupFlags);
        int fd = Linux.ioUringSetup(state, entries, params);
        if (fd < 0) {
            throw new UringException("io_uring_setup of " + entries + " entries", -fd);
        }
        ringFd = fd;
        int features = params.get(ValueLayout.JAVA_INT, UringLayouts.P_FEATURES);
        if ((features & UringLayouts.IORING_FEAT_SINGLE_MMAP) == 0) {
            throw new IOException("io_uring without IORING_FEAT_SINGLE_MMAP");
        }
        int sqEntries = params.get(ValueLayout.JAVA_INT, UringLayouts.P_SQ_ENTRIES);
        int cqEntries = params.get(ValueLayout.JAVA_INT, UringLayouts.P_CQ_ENTRIES);
        long sqOff = UringLayouts.P_SQ_OFF;
        long cqOff = UringLayouts.P_CQ_OFF;
        long sqArrayAt = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, sqOff + UringLayouts.SQ_OFF_ARRAY));
        cqesAt = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, cqOff + UringLayouts.CQ_OFF_CQES));
        // One mapping holds both rings (IORING_FEAT_SINGLE_MMAP); the SQEs have their own.
        long ringSize = Math.max(sqArrayAt + (long) sqEntries * Integer.BYTES, cqesAt + cqEntries * CQE.byteSize());
        ring = Linux.mmap(state, ringSize, fd, UringLayouts.IORING_OFF_SQ_RING);
        sqes = Linux.mmap(state, sqEntries * SQE.byteSize(), fd, UringLayouts.IORING_OFF_SQES);
        sqTailAt = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, sqOff + UringLayouts.SQ_OFF_TAIL));
        cqHeadAt = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, cqOff + UringLayouts.CQ_OFF_HEAD));
        cqTailAt = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, cqOff + UringLayouts.CQ_OFF_TAIL));
        sqMask = ring.get(ValueLayout.JAVA_INT,
                Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, sqOff + UringLayouts.SQ_OFF_RING_MASK)));
        cqMask = ring.get(ValueLayout.JAVA_INT,
                Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, cqOff + UringLayouts.CQ_OFF_RING_MASK)));
        // SQE i always sits in array slot i: entries are written in ring order.
        for (int i = 0; i < sqEntries; i++) {
            ring.set(ValueLayout.JAVA_INT, sqArrayAt + (long) i * Integer.BYTES, i);
        }
        sqTail = ring.get(ValueLayout.JAVA_INT, sqTailAt);
        cqHead = ring.get(ValueLayout.JAVA_INT, cqHeadAt);

        capacity = sqEntries - 1; // one entry for the wake-up read; the CQ (2 x sqEntries) cannot overflow
        slots = new Op[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i;
        }
        freeCount = capacity;
        inlineIovecs = arena.allocate(IOVEC, (long) capacity * INLINE_IOVECS);
        MemorySegment wakeCount = arena.allocate(ValueLayout.JAVA_LONG);
        wakeIovec = arena.allocate(IOVEC);
        wakeIovec.set(ValueLayout.ADDRESS, 0, wakeCount);
        wakeIovec.set(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS.byteSize(), wakeCount.byteSize());
        eventFd = Libc.eventfd(0);
        wakeLock.writeLock().lock();
        eventFdOpen = true;
        wakeLock.writeLock().unlock();
    }

    private void loop() throws IOException {
        while (true) {
            boolean closingSeen = closing;
            if (!wakeArmed && !closingSeen) {
                armWake();
            }
            takeQueued();
            boolean idle = freeCount == capacity;
            if (closingSeen && idle && queue.isEmpty()) {
                if (!wakeArmed) {
                    return; // nothing left in the kernel
                }
                if (!wakeRetiring) { // complete the wake-up read so that no operation outlives the ring
                    Libc.eventfdAdd(eventFd);
                    wakeRetiring = true;
                }
            }
            // Announce the sleep, then look once more: a submitter either sees the flag or is seen here.
            sleeping.set(true);
            boolean block = !(freeCount > 0 && !queue.isEmpty()) && closing == closingSeen;
            if (!block) {
                sleeping.set(false);
                continue;
            }
            // Also submits what is not in yet: the wake-up read, or entries a busy kernel left.
            enter(1, UringLayouts.IORING_ENTER_GETEVENTS);
            sleeping.set(false);
            reap();
        }
    }

    /**
     * Moves queued operations into the ring while it has room, each submitted on its own at once. Submitting them
     * together with the wait, in one batch, left them longer in the device's queue (bench/README.md, native-io).
     */
    private void takeQueued() throws UringException {
        while (freeCount > 0) {
            Op op = queue.poll();
            if (op == null) {
                return;
            }
            prepare(op, free[--freeCount]);
            enter(0, 0);
        }
    }

    /** {@code io_uring_enter}: submits every entry not yet submitted and waits for {@code minComplete} completions. */
    private void enter(int minComplete, int flags) throws UringException {
        int rc = Linux.ioUringEnter(state, ringFd, unsubmitted, minComplete, flags);
        if (rc >= 0) {
            unsubmitted -= rc;
        } else if (rc != -Errno.EINTR && rc != -Errno.EAGAIN && rc != -Errno.EBUSY) {
            throw new UringException("io_uring_enter", -rc);
        }
    }

    /** Writes the SQE for {@code op} into {@code slot}'s place in the ring. */
    private void prepare(Op op, int slot) {
        long addr = op.addr;
        int len = op.len;
        if (op.buffers != null) {
            int count = op.buffers.size();
            MemorySegment iov;
            if (count <= INLINE_IOVECS) {
                iov = inlineIovecs.asSlice(slot * INLINE_IOVECS * IOVEC.byteSize(), count * IOVEC.byteSize());
            } else {
                op.iovecArena = Arena.ofConfined();
                iov = op.iovecArena.allocate(IOVEC, count);
            }
            for (int i = 0; i < count; i++) {
                MemorySegment buffer = op.buffers.get(i);
                long at = i * IOVEC.byteSize();
                iov.set(ValueLayout.ADDRESS, at, buffer);
                iov.set(ValueLayout.JAVA_LONG, at + ValueLayout.ADDRESS.byteSize(), buffer.byteSize());
            }
            addr = iov.address();
            len = count;
        }
        slots[slot] = op;
        push(op.opcode, op.fd, op.offset, addr, len, op.flags, slot);
    }

    private void armWake() {
        push(UringLayouts.IORING_OP_READV, eventFd, 0, wakeIovec.address(), 1, 0, WAKE);
        wakeArmed = true;
    }

    private void push(int opcode, int fd, long offset, long addr, int len, int flags, long userData) {
        long at = (long) (sqTail & sqMask) * SQE.byteSize();
        sqes.asSlice(at, SQE.byteSize()).fill((byte) 0);
        sqes.set(ValueLayout.JAVA_BYTE, at + UringLayouts.SQE_OPCODE, (byte) opcode);
        sqes.set(ValueLayout.JAVA_INT, at + UringLayouts.SQE_FD, fd);
        sqes.set(ValueLayout.JAVA_LONG, at + UringLayouts.SQE_OFF, offset);
        sqes.set(ValueLayout.JAVA_LONG, at + UringLayouts.SQE_ADDR, addr);
        sqes.set(ValueLayout.JAVA_INT, at + UringLayouts.SQE_LEN, len);
        sqes.set(ValueLayout.JAVA_INT, at + UringLayouts.SQE_RW_FLAGS, flags);
        sqes.set(ValueLayout.JAVA_LONG, at + UringLayouts.SQE_USER_DATA, userData);
        sqTail++;
        RING_WORD.setRelease(ring, sqTailAt, sqTail); // the kernel sees the entry before the new tail
        unsubmitted++;
    }

    /** Takes every completion; what the completed futures' stages submit goes in at once. */
    private void reap() throws UringException {
        int head = cqHead;
        int tail = (int) RING_WORD.getAcquire(ring, cqTailAt);
        while (head != tail) {
            long at = cqesAt + (long) (head & cqMask) * CQE.byteSize();
            long userData = ring.get(ValueLayout.JAVA_LONG, at + UringLayouts.CQE_USER_DATA);
            int res = ring.get(ValueLayout.JAVA_INT, at + UringLayouts.CQE_RES);
            head++;
            RING_WORD.setRelease(ring, cqHeadAt, head); // the entry is read: the kernel may reuse it
            cqHead = head;
            if (userData == WAKE) {
                wakeArmed = false; // re-armed at the top of the loop unless closing
                continue;
            }
            int slot = (int) userData;
            Op op = slots[slot];
            slots[slot] = null;
            free[freeCount++] = slot;
            finish(op, res < 0 ? new UringException(op.describe(), -res) : null, res);
            takeQueued();
        }
    }

    /** Completes {@code op} with {@code res}, or with {@code failure} where not null. */
    private static void finish(Op op, Throwable failure, int res) {
        if (op.iovecArena != null) {
            op.iovecArena.close();
            op.iovecArena = null;
        }
        if (failure != null) {
            op.future.completeExceptionally(failure);
        } else {
            op.future.complete(res);
        }
    }

    /**
     * Unmaps and closes what {@link #setUp} made, as far as it got. The ring's own memory (the wake-up read's
     * buffer) is freed only when {@code idle}, that is when the kernel holds no operation of this ring: after a
     * failure it is left allocated, since the kernel may still write it.
     */
    private void release(boolean idle) {
        wakeLock.writeLock().lock();
        try {
            if (eventFdOpen) {
                eventFdOpen = false;
                closeQuietly(eventFd);
            }
        } finally {
            wakeLock.writeLock().unlock();
        }
        if (sqes != null) {
            Linux.munmap(sqes);
        }
        if (ring != null) {
            Linux.munmap(ring);
        }
        if (ringFd >= 0) {
            closeQuietly(ringFd);
        }
        if (arena != null && idle) {
            arena.close();
        }
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            // Nothing to do about a descriptor that would not close; it is released anyway.
        }
    }

    /** A queued or in-flight operation. */
    private static final class Op {
        final int opcode;
        final String name;
        final int fd;
        final long offset;
        final long addr;
        final int len;
        final int flags;
        final List<MemorySegment> buffers;
        final CompletableFuture<Integer> future = new CompletableFuture<>();
        Arena iovecArena; // the ring thread's: iovecs beyond INLINE_IOVECS

        Op(int opcode, String name, int fd, long offset, long addr, int len, int flags, List<MemorySegment> buffers) {
            this.opcode = opcode;
            this.name = name;
            this.fd = fd;
            this.offset = offset;
            this.addr = addr;
            this.len = len;
            this.flags = flags;
            this.buffers = buffers;
        }

        /** A read or write of {@code buffers}: READ or WRITE straight from a single buffer, else READV or WRITEV. */
        static Op transfer(boolean write, String name, int fd, List<MemorySegment> buffers, long offset, int flags) {
            List<MemorySegment> copy = List.copyOf(buffers);
            if (copy.isEmpty() || copy.size() > MAX_IOVECS) {
                throw new IllegalArgumentException(name + " of " + copy.size() + " buffers; 1 to " + MAX_IOVECS
                        + " are allowed");
            }
            for (MemorySegment buffer : copy) {
                if (!buffer.isNative()) {
                    throw new IllegalArgumentException(name + " needs native memory, not " + buffer);
                }
            }
            if (offset < 0) {
                throw new IllegalArgumentException(name + " at negative offset " + offset);
            }
            if (copy.size() == 1) {
                MemorySegment buffer = copy.getFirst();
                // len is 32 bits; the kernel moves at most MAX_RW_COUNT (2 GiB less a page) anyway, as with READV.
                int len = (int) Math.min(buffer.byteSize(), MAX_RW_COUNT);
                return new Op(write ? UringLayouts.IORING_OP_WRITE : UringLayouts.IORING_OP_READ, name, fd, offset,
                        buffer.address(), len, flags, null);
            }
            return new Op(write ? UringLayouts.IORING_OP_WRITEV : UringLayouts.IORING_OP_READV, name, fd, offset, 0,
                    0, flags, copy);
        }

        String describe() {
            return opcode == UringLayouts.IORING_OP_FSYNC || opcode == UringLayouts.IORING_OP_NOP
                    ? name + " fd " + fd
                    : name + " fd " + fd + " at " + offset;
        }
    }
}
