package org.diskhost.frontend.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SelectableChannel;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;

/**
 * Buffered, blocking reads of big-endian protocol fields from a channel. Several small requests arrive in one read;
 * large payloads go straight from the socket into their destination memory. The channel may be switched to
 * non-blocking mode ({@link #nonBlocking}, so that replies can be sent from other threads without blocking them):
 * reads then still block, waiting for input in a selector of their own.
 */
final class ChannelInput implements AutoCloseable {
    /** How long a wait for input lasts before it checks whether the channel was closed meanwhile. */
    private static final long SELECT_MILLIS = 1000;

    private final ReadableByteChannel channel;
    private final ByteBuffer buffer;
    private Selector selector; // once non-blocking

    ChannelInput(ReadableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.buffer = ByteBuffer.allocateDirect(bufferSize).flip();
    }

    /**
     * Puts {@code channel} (the one this input reads) into non-blocking mode; reads go on blocking the reading thread.
     * Call it from the reading thread while no other thread uses the channel.
     */
    void nonBlocking(SelectableChannel selectable) throws IOException {
        if (selectable != channel) {
            throw new IllegalArgumentException("not the channel this input reads");
        }
        Selector s = Selector.open();
        try {
            selectable.configureBlocking(false);
            selectable.register(s, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        selector = s;
    }

    /** Wakes a read waiting for input, so that it notices that the channel was closed. */
    void wakeup() {
        Selector s = selector;
        if (s != null) {
            s.wakeup();
        }
    }

    /** Releases the selector of a non-blocking input (the channel is closed by its owner). */
    @Override
    public void close() throws IOException {
        if (selector != null) {
            selector.close();
        }
    }

    /** One read into {@code target}: bytes read, or -1 at the end of the stream; non-blocking, it waits for input. */
    private int read(ByteBuffer target) throws IOException {
        while (true) {
            int n = channel.read(target);
            if (n != 0 || selector == null) {
                return n;
            }
            selector.select(SELECT_MILLIS);
            selector.selectedKeys().clear();
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
        }
    }

    /**
     * Waits for {@code n} bytes (at most the buffer size).
     *
     * @return false at a clean end of stream before the first byte; an end of stream after some bytes is an
     *         {@link EOFException}
     */
    boolean await(int n) throws IOException {
        if (buffer.remaining() >= n) {
            return true;
        }
        buffer.compact();
        try {
            while (buffer.position() < n) {
                if (read(buffer) < 0) {
                    if (buffer.position() == 0) {
                        return false;
                    }
                    throw new EOFException("the client closed the connection in the middle of a message");
                }
            }
        } finally {
            buffer.flip();
        }
        return true;
    }

    private void need(int n) throws IOException {
        if (!await(n)) {
            throw new EOFException("the client closed the connection");
        }
    }

    int readInt() throws IOException {
        need(4);
        return buffer.getInt();
    }

    int readUnsignedShort() throws IOException {
        need(2);
        return Short.toUnsignedInt(buffer.getShort());
    }

    long readLong() throws IOException {
        need(8);
        return buffer.getLong();
    }

    byte[] readBytes(int n) throws IOException {
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            int chunk = Math.min(n - done, buffer.capacity());
            need(chunk);
            buffer.get(out, done, chunk);
            done += chunk;
        }
        return out;
    }

    String readString(int n) throws IOException {
        return new String(readBytes(n), StandardCharsets.UTF_8);
    }

    /** Fills {@code destination}: first from what is buffered, then directly from the channel. */
    void readFully(MemorySegment destination) throws IOException {
        ByteBuffer target = destination.asByteBuffer();
        int buffered = Math.min(buffer.remaining(), target.remaining());
        if (buffered > 0) {
            target.put(buffer.slice(buffer.position(), buffered));
            buffer.position(buffer.position() + buffered);
        }
        while (target.hasRemaining()) {
            if (read(target) < 0) {
                throw new EOFException("the client closed the connection in the middle of a payload");
            }
        }
    }

    /** Reads and drops {@code n} bytes (the payload of a refused write). */
    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            if (buffer.remaining() == 0) {
                need(1);
            }
            int step = (int) Math.min(left, buffer.remaining());
            buffer.position(buffer.position() + step);
            left -= step;
        }
    }
}
