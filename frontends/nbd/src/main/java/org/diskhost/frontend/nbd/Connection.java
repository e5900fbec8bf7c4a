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
    }

    @Override
    public void run() {
        ChannelInput in = new ChannelInput(channel, INPUT_BUFFER);
        try {
            ScheduledFuture<?> timeout = timer.schedule(() -> {
                LOG.info(() -> peer + ": handshake not finished within " + options.handshakeTimeout()
                        + "; closing");
                close();
            }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            Optional<Session> session;
            try {
                session = new Handshake(in, channel, server, options.maxPayload()).run();
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

    private void transmit(Session session, ChannelInput in) throws IOException, InterruptedException {
        ReplyWriter writer = new ReplyWriter(channel, peer);
        Thread writerThread = Thread.ofPlatform().daemon().name("nbd-writer " + peer).start(writer);
        try (BufferPool pool = new BufferPool(options.connectionMemory())) {
            try {
                new Transmission(session, in, writer, pool, options.maxPayload()).run();
            } finally {
                writer.finish();
                writerThread.join();
            }
        }
    }

    @Override
    public String toString() {
        return "Connection[" + peer + (export == null ? "" : ", " + export.name()) + "]";
    }
}
