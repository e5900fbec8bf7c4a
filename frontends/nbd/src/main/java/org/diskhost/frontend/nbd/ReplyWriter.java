package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The sending side of a connection, over a non-blocking socket. Replies complete in any order; each is written whole,
 * never interleaved with another.
 *
 * <p>A small reply is written by the thread that completes the request (typically the disk's I/O thread), with one
 * non-blocking write: that spares a hand-off to another thread, which on a queue-depth-1 client is a large part of
 * the latency. Whatever would make that thread wait or work long goes to the connection's writer thread instead: a
 * reply larger than {@link #DIRECT_LIMIT}, a socket buffer too full to take the whole reply (a client that reads
 * slowly), or replies that keep arriving while one is written. The writer thread then has the socket until it has
 * caught up, waiting for it to drain in a selector, and sends several replies with one gathering write. So a disk's
 * threads never block on a client, and spend at most one bounded write per reply on it.
 */
final class ReplyWriter implements Runnable {
    private static final Logger LOG = Logger.getLogger(ReplyWriter.class.getName());
    /** Replies per gathering write. */
    private static final int MAX_BATCH = 64;
    /** The largest reply (header and data, bytes) that a completing thread writes itself. */
    static final int DIRECT_LIMIT = 64 * 1024;
    /** Writes a completing thread makes in a row (of replies others queued meanwhile) before it hands over. */
    private static final int DIRECT_ROUNDS = 4;
    /** How long a wait for the socket lasts before it checks again (a closed connection also wakes it). */
    private static final long SELECT_MILLIS = 1000;

    /** Bytes to send, and what to do once they are sent or dropped (release a buffer, count the request done). */
    private record Reply(ByteBuffer[] parts, Runnable done) {
        boolean sent() {
            for (ByteBuffer b : parts) {
                if (b.hasRemaining()) {
                    return false;
                }
            }
            return true;
        }

        long bytes() {
            long n = 0;
            for (ByteBuffer b : parts) {
                n += b.remaining();
            }
            return n;
        }
    }

    private final SocketChannel channel;
    private final String peer;
    private final Runnable closeConnection;
    private final Selector writable;
    private final ConcurrentLinkedQueue<Reply> queue = new ConcurrentLinkedQueue<>();
    /** Held by the thread writing to the socket, only for one non-blocking write: never while waiting. */
    private final ReentrantLock output = new ReentrantLock();
    /** Replies taken from the queue and not yet sent whole, the first one possibly in part; guarded by output. */
    private final ArrayDeque<Reply> pending = new ArrayDeque<>();
    /** The parts of one gathering write; guarded by output. */
    private ByteBuffer[] gather = new ByteBuffer[2 * MAX_BATCH];
    /** The writer thread has the socket (until pending and the queue are empty): others only queue. */
    private volatile boolean writerOwns;
    private volatile boolean finishing;
    private volatile boolean failed;
    private volatile Thread thread;

    /**
     * A writer for {@code channel}, which must be in non-blocking mode already. {@code closeConnection} runs when a
     * write fails, so that the reading side ends too.
     */
    ReplyWriter(SocketChannel channel, String peer, Runnable closeConnection) throws IOException {
        this.channel = channel;
        this.peer = peer;
        this.closeConnection = closeConnection;
        this.writable = Selector.open();
        try {
            channel.register(writable, SelectionKey.OP_WRITE);
        } catch (IOException | RuntimeException e) {
            writable.close();
            throw e;
        }
    }

    /**
     * Sends a reply; {@code done} runs once the reply is on the wire, or dropped because the connection broke. With
     * {@code direct}, this thread writes it if that needs no waiting (else the writer thread does); without, the
     * writer thread does, together with the others it finds queued.
     */
    void send(ByteBuffer[] parts, Runnable done, boolean direct) {
        queue.add(new Reply(parts, done));
        drain(direct);
    }

    /** Ends the writer thread once the replies queued so far are written. */
    void finish() {
        finishing = true;
        LockSupport.unpark(thread);
    }

    /** Wakes the writer thread if it waits for the socket, so that it notices that the connection was closed. */
    void wakeup() {
        writable.wakeup();
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            while (true) {
                while (!writerOwns && !finishing) {
                    LockSupport.park(this);
                }
                if (!writerOwns) { // finishing: write what is left
                    output.lock();
                    try {
                        writerOwns = true;
                    } finally {
                        output.unlock();
                    }
                }
                serve();
                if (finishing) {
                    break;
                }
            }
        } finally {
            failed = true; // replies that race with the end are dropped, but their buffers still go back
            drain(false);
            try {
                writable.close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing a selector", e);
            }
        }
    }

    /**
     * With {@code direct}, writes queued replies from this thread, without waiting, while they are small and the
     * socket takes them; otherwise (or without {@code direct}) the writer thread gets the socket.
     */
    private void drain(boolean direct) {
        for (int round = 0; !queue.isEmpty(); round++) {
            if (!output.tryLock()) {
                return; // the thread that has it looks at the queue again after letting it go
            }
            List<Reply> finished = new ArrayList<>(2);
            boolean handOver = false;
            try {
                if (failed) {
                    drop(finished);
                } else if (writerOwns) {
                    return; // the writer thread takes this reply before it lets the socket go
                } else {
                    handOver = !direct || round >= DIRECT_ROUNDS || !write(DIRECT_LIMIT, finished);
                    writerOwns = handOver;
                }
            } finally {
                output.unlock();
            }
            finished.forEach(r -> r.done().run());
            if (handOver) {
                LockSupport.unpark(thread);
                return;
            }
        }
    }

    /** The writer thread, owning the socket: writes until nothing is pending or queued, then lets the socket go. */
    private void serve() {
        while (true) {
            List<Reply> finished = new ArrayList<>();
            boolean caughtUp;
            boolean full = false;
            output.lock();
            try {
                if (failed) {
                    drop(finished);
                    caughtUp = true;
                } else {
                    full = !write(Long.MAX_VALUE, finished);
                    caughtUp = !full && queue.isEmpty();
                }
                if (caughtUp) {
                    writerOwns = false;
                }
            } finally {
                output.unlock();
            }
            finished.forEach(r -> r.done().run());
            if (caughtUp) {
                drain(true); // replies queued while this thread had the socket
                return;
            }
            if (full) { // wait until the client reads
                awaitWritable();
            }
        }
    }

    /**
     * Under {@link #output}: moves queued replies to {@link #pending} (up to {@link #MAX_BATCH}, and while they add
     * up to at most {@code limit} bytes) and writes them without blocking; the replies sent whole go to
     * {@code finished}. On a failure the connection is closed and everything is dropped.
     *
     * @return true when everything pending was written (false when the socket is full, or the next reply is over
     *         {@code limit})
     */
    private boolean write(long limit, List<Reply> finished) {
        long budget = limit;
        int parts = 0;
        for (Reply r : pending) {
            parts += r.parts().length;
        }
        for (Reply r = queue.peek(); r != null && pending.size() < MAX_BATCH; r = queue.peek()) {
            long bytes = r.bytes();
            if (bytes > budget) {
                break;
            }
            budget -= bytes;
            pending.add(queue.poll());
            parts += r.parts().length;
        }
        if (pending.isEmpty()) {
            return queue.isEmpty(); // false: the next reply is too large for this thread
        }
        if (gather.length < parts) {
            gather = new ByteBuffer[parts];
        }
        int n = 0;
        long total = 0;
        for (Reply r : pending) {
            for (ByteBuffer b : r.parts()) {
                gather[n++] = b;
                total += b.remaining();
            }
        }
        try {
            while (total > 0) {
                long written = channel.write(gather, 0, n);
                total -= written;
                if (written == 0) {
                    break; // the socket buffer is full
                }
            }
        } catch (IOException e) {
            fail(e);
            drop(finished);
            return true;
        } finally {
            Arrays.fill(gather, 0, n, null);
        }
        while (!pending.isEmpty() && pending.peek().sent()) {
            finished.add(pending.poll());
        }
        return pending.isEmpty();
    }

    private void awaitWritable() {
        try {
            writable.select(SELECT_MILLIS);
            writable.selectedKeys().clear();
        } catch (IOException e) {
            fail(e);
        }
    }

    private void fail(IOException e) {
        failed = true;
        LOG.log(Level.FINE, e, () -> peer + ": cannot send replies; the connection is dropped");
        closeConnection.run(); // wakes the reading side, which then ends the connection
    }

    /** Under {@link #output}: moves every pending and queued reply to {@code dropped}. */
    private void drop(List<Reply> dropped) {
        dropped.addAll(pending);
        pending.clear();
        for (Reply r = queue.poll(); r != null; r = queue.poll()) {
            dropped.add(r);
        }
    }
}
