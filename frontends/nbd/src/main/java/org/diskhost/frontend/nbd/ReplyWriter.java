package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The sending side of a connection: replies, completed in any order by the disk, are queued and written by one
 * thread, several at a time with one gathering write. The disk's threads never block on a slow client.
 */
final class ReplyWriter implements Runnable {
    private static final Logger LOG = Logger.getLogger(ReplyWriter.class.getName());
    private static final int MAX_BATCH = 64;
    private static final Reply END = new Reply(new ByteBuffer[0], () -> { });

    /** Bytes to send, and what to do once they are sent or dropped (release a buffer, count the request done). */
    record Reply(ByteBuffer[] parts, Runnable done) {
    }

    private final GatheringByteChannel channel;
    private final String peer;
    private final LinkedBlockingQueue<Reply> queue = new LinkedBlockingQueue<>();
    private volatile boolean failed;

    ReplyWriter(GatheringByteChannel channel, String peer) {
        this.channel = channel;
        this.peer = peer;
    }

    /** Queues a reply; if the connection is already broken, the reply is dropped and {@code done} runs at once. */
    void send(ByteBuffer[] parts, Runnable done) {
        if (failed) {
            done.run();
            return;
        }
        queue.add(new Reply(parts, done));
    }

    /** Ends the writer once the replies queued so far are written. */
    void finish() {
        queue.add(END);
    }

    @Override
    public void run() {
        List<Reply> batch = new ArrayList<>(MAX_BATCH);
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch, MAX_BATCH - 1);
                boolean end = batch.contains(END);
                if (!failed) {
                    write(batch);
                }
                batch.forEach(r -> r.done().run());
                batch.clear();
                if (end) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = true;
        }
        // Replies that race with the end are dropped, but their buffers still go back.
        failed = true;
        Reply r;
        while ((r = queue.poll()) != null) {
            r.done().run();
        }
    }

    private void write(List<Reply> batch) {
        int count = 0;
        for (Reply r : batch) {
            count += r.parts().length;
        }
        ByteBuffer[] all = new ByteBuffer[count];
        int i = 0;
        long total = 0;
        for (Reply r : batch) {
            for (ByteBuffer b : r.parts()) {
                all[i++] = b;
                total += b.remaining();
            }
        }
        try {
            long written = 0;
            while (written < total) {
                written += channel.write(all);
            }
        } catch (IOException e) {
            failed = true;
            LOG.log(Level.FINE, e, () -> peer + ": cannot send replies; the connection is dropped");
            try {
                channel.close(); // wakes the reading side, which then ends the connection
            } catch (IOException ignored) {
                // already broken
            }
        }
    }
}
