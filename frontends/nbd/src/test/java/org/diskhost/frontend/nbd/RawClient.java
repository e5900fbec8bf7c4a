package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A client that speaks the NBD protocol byte by byte, so tests can send what real clients never would. */
final class RawClient implements AutoCloseable {
    final SocketChannel channel;
    long size;
    int transmissionFlags;

    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A reply: simple ({@code chunkType == -1}) or one structured chunk. */
    record Reply(long cookie, int error, int chunkType, int flags, byte[] payload) {
        boolean done() {
            return chunkType == -1 || (flags & Protocol.REPLY_FLAG_DONE) != 0;
        }
    }

    private RawClient(SocketChannel channel) {
        this.channel = channel;
    }

    static RawClient connect(Path socket) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(socket));
        return new RawClient(c);
    }

    /** Reads the greeting and sends the client flags (fixed newstyle, no zeroes). */
    RawClient greet() throws IOException {
        ByteBuffer b = read(18);
        assertEquals(Protocol.NBDMAGIC, b.getLong());
        assertEquals(Protocol.IHAVEOPT, b.getLong());
        assertEquals(Protocol.FLAG_FIXED_NEWSTYLE | Protocol.FLAG_NO_ZEROES, b.getShort());
        write(ByteBuffer.allocate(4).putInt(Protocol.CLIENT_FIXED_NEWSTYLE | Protocol.CLIENT_NO_ZEROES).flip());
        return this;
    }

    void option(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(Protocol.IHAVEOPT).putInt(option).putInt(data.length)
                .put(data).flip());
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = read(20);
        assertEquals(Protocol.OPTION_REPLY_MAGIC, h.getLong());
        int option = h.getInt();
        int type = h.getInt();
        int length = h.getInt();
        return new OptionReply(option, type, read(length).array());
    }

    static byte[] goData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length).putInt(n.length).put(n)
                .putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaData(String name, String... queries) {
        ByteBuffer b = ByteBuffer.allocate(8192);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    /**
     * Goes to transmission with {@code NBD_OPT_GO}, optionally after structured replies and base:allocation, and
     * optionally agreeing to block sizes.
     */
    RawClient go(String name, boolean structured, boolean blockSizes) throws IOException {
        if (structured) {
            option(Protocol.Option.STRUCTURED_REPLY.code, new byte[0]);
            assertEquals(Protocol.OptionReply.ACK.code, optionReply().type());
            option(Protocol.Option.SET_META_CONTEXT.code, metaData(name, Protocol.BASE_ALLOCATION));
            OptionReply context = optionReply();
            assertEquals(Protocol.OptionReply.META_CONTEXT.code, context.type());
            assertEquals(Protocol.OptionReply.ACK.code, optionReply().type());
        }
        option(Protocol.Option.GO.code, blockSizes ? goData(name, Protocol.Info.BLOCK_SIZE.code) : goData(name));
        while (true) {
            OptionReply r = optionReply();
            if (r.type() == Protocol.OptionReply.ACK.code) {
                return this;
            }
            assertEquals(Protocol.OptionReply.INFO.code, r.type(), () -> "GO failed: " + r.text());
            ByteBuffer info = ByteBuffer.wrap(r.data());
            if (info.getShort() == Protocol.Info.EXPORT.code) {
                size = info.getLong();
                transmissionFlags = info.getShort() & 0xffff;
            }
        }
    }

    void request(int flags, int type, long cookie, long offset, int length) throws IOException {
        request(flags, type, cookie, offset, length, null);
    }

    void request(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        write(ByteBuffer.allocate(28).putInt(Protocol.REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putLong(offset).putInt(length).flip());
        if (payload != null) {
            write(ByteBuffer.wrap(payload));
        }
    }

    /** A simple reply; {@code dataLength} bytes of data follow a successful read. */
    Reply simpleReply(int dataLength) throws IOException {
        ByteBuffer h = read(16);
        assertEquals(Protocol.SIMPLE_REPLY_MAGIC, h.getInt());
        int error = h.getInt();
        long cookie = h.getLong();
        byte[] data = error == 0 && dataLength > 0 ? read(dataLength).array() : new byte[0];
        return new Reply(cookie, error, -1, 0, data);
    }

    /** One structured chunk; for an error chunk, {@code error} holds its code. */
    Reply chunk() throws IOException {
        ByteBuffer h = read(20);
        assertEquals(Protocol.STRUCTURED_REPLY_MAGIC, h.getInt());
        int flags = h.getShort() & 0xffff;
        int type = h.getShort() & 0xffff;
        long cookie = h.getLong();
        int length = h.getInt();
        byte[] payload = read(length).array();
        int error = (type & 0x8000) != 0 ? ByteBuffer.wrap(payload).getInt() : 0;
        return new Reply(cookie, error, type, flags, payload);
    }

    /** Whether the server closed the connection (reads end of stream). */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return channel.read(b) < 0;
        } catch (IOException e) {
            return true; // reset
        }
    }

    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("server closed the connection");
            }
        }
        return b.flip();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
