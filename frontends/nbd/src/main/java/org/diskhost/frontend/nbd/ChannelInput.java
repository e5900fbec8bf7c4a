package org.diskhost.frontend.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Buffered, blocking reads of big-endian protocol fields from a channel. Several small requests arrive in one read;
 * large payloads go straight from the socket into their destination memory.
 */
final class ChannelInput {
    private final ReadableByteChannel channel;
    private final ByteBuffer buffer;

    ChannelInput(ReadableByteChannel channel, int bufferSize) {
        this.channel = channel;
        this.buffer = ByteBuffer.allocateDirect(bufferSize).flip();
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
                if (channel.read(buffer) < 0) {
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
            if (channel.read(target) < 0) {
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
