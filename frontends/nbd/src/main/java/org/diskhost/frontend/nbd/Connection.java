package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.diskhost.frontend.nbd.Handshake.ProtocolViolation;
import org.diskhost.frontend.nbd.Handshake.Session;

/**
 * One client connection: the handshake (closed if it takes longer than the configured timeout), then the
 * transmission phase. Everything a connection holds (its buffers, its threads) is released when it ends, and its
 * failures stay its own.
 */
final class Connection implements Runnable {
    private static final Logger LOG = Logger.getLogger(Connection.class.getName());
    private static final int INPUT_BUFFER = 64 * 1024;

    private final SocketChannel channel;
    private final String peer;
    private final NbdServer server;
    private final NbdOptions options;
    private final ScheduledExecutorService timer;
    private volatile Export export;
    // Set in the transmission phase, so that close() can wake their threads waiting in selectors.
    private volatile ChannelInput input;
    private volatile ReplyWriter writer;

    Connection(SocketChannel channel, String peer, NbdServer server, NbdOptions options,
            ScheduledExecutorService timer) {
        this.channel = channel;
        this.peer = peer;
        this.server = server;
        this.options = options;
        this.timer = timer;
    }

    /** The export this connection serves, once its handshake is done. */
    Optional<Export> export() {
        return Optional.ofNullable(export);
    }

    /** Ends the connection: the socket closes; requests in flight still finish before its memory is freed. */
    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "closing " + peer, e);
        }
        ChannelInput in = input;
        if (in != null) {
            in.wakeup();
        }
        ReplyWriter out = writer;
        if (out != null) {
            out.wakeup();
        }
    }

    @Override
    public void run() {
        ChannelInput in = new ChannelInput(channel, INPUT_BUFFER);
        // A client asking for an export that is still coming up waits for it for most of the handshake timeout,
        // leaving it time to hear why it was refused before the timeout closes the connection.
        long waitUntil = System.nanoTime() + options.handshakeTimeout().toNanos() / 10 * 9;
        try {
            ScheduledFuture<?> timeout = timer.schedule(() -> {
                LOG.info(() -> peer + ": handshake not finished within " + options.handshakeTimeout()
                        + "; closing");
                close();
            }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            Optional<Session> session;
            try {
                session = new Handshake(in, channel, server, options.maxPayload(), waitUntil).run();
            } finally {
                timeout.cancel(false);
            }
            if (session.isEmpty()) {
                return;
            }
            export = session.get().export();
            LOG.fine(() -> peer + ": serving export '" + export.name() + "'");
            if (!server.admit(this)) {
                return; // the export went away during the handshake
            }
            transmit(session.get(), in);
        } catch (ProtocolViolation e) {
            LOG.warning(() -> peer + ": protocol violation, closing the connection: " + e.getMessage());
        } catch (ClosedChannelException e) {
            LOG.fine(() -> peer + ": connection closed");
        } catch (IOException e) {
            LOG.log(Level.FINE, e, () -> peer + ": connection ended: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, e, () -> peer + ": connection failed");
        } finally {
            close();
            server.closed(this);
        }
    }

    /**
     * The transmission phase, on a non-blocking socket: this thread reads requests (waiting for them in a selector),
     * and replies are sent without blocking by the threads that complete them, or else by a writer thread.
     */
    private void transmit(Session session, ChannelInput in) throws IOException, InterruptedException {
        try (in) {
            in.nonBlocking(channel);
            input = in;
            ReplyWriter out = new ReplyWriter(channel, peer, this::close);
            writer = out;
            Thread writerThread = Thread.ofPlatform().daemon().name("nbd-writer " + peer).start(out);
            try (BufferPool pool = new BufferPool(options.connectionMemory())) {
                try {
                    new Transmission(session, in, out, pool, options.maxPayload()).run();
                } finally {
                    out.finish();
                    writerThread.join();
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Connection[" + peer + (export == null ? "" : ", " + export.name()) + "]";
    }
}
