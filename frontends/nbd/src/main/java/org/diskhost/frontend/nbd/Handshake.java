package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.diskhost.frontend.nbd.Exports.Lookup;
import org.diskhost.frontend.nbd.Protocol.Info;
import org.diskhost.frontend.nbd.Protocol.Option;
import org.diskhost.frontend.nbd.Protocol.OptionReply;

/**
 * The fixed newstyle handshake: greeting, client flags, then option haggling until the client picks an export with
 * {@code NBD_OPT_EXPORT_NAME} or {@code NBD_OPT_GO}, or leaves.
 */
final class Handshake {
    /** Option payloads above this size end the connection: no option this server knows needs more. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;
    /** The longest export name or query string (the protocol's limit). */
    static final int MAX_STRING = 4096;
    /** The advertised minimum block size: any byte offset and length is served. */
    static final int MINIMUM_BLOCK_SIZE = 1;

    /** What the handshake agreed on. */
    record Session(Export export, boolean structuredReplies, boolean allocationContext) {
    }

    /** The client broke the protocol so that the connection cannot go on. */
    static final class ProtocolViolation extends IOException {
        private static final long serialVersionUID = 1L;

        ProtocolViolation(String message) {
            super(message);
        }
    }

    private final ChannelInput in;
    private final WritableByteChannel out;
    private final Exports exports;
    private final int maxPayload;
    private final long deadlineNanos;
    private boolean noZeroes;
    private boolean structured;
    private String allocationExport; // the export base:allocation was selected for, if any

    /**
     * @param deadlineNanos until when (a {@link System#nanoTime()}) a client asking for an export that is configured
     *        but not ready yet waits for it
     */
    Handshake(ChannelInput in, WritableByteChannel out, Exports exports, int maxPayload, long deadlineNanos) {
        this.in = in;
        this.out = out;
        this.exports = exports;
        this.maxPayload = maxPayload;
        this.deadlineNanos = deadlineNanos;
    }

    /** Runs the handshake; empty when the client aborted or left politely. */
    Optional<Session> run() throws IOException, InterruptedException {
        writeFully(ByteBuffer.allocate(18).putLong(Protocol.NBDMAGIC).putLong(Protocol.IHAVEOPT)
                .putShort((short) (Protocol.FLAG_FIXED_NEWSTYLE | Protocol.FLAG_NO_ZEROES)).flip());
        int clientFlags = in.readInt();
        if ((clientFlags & ~(Protocol.CLIENT_FIXED_NEWSTYLE | Protocol.CLIENT_NO_ZEROES)) != 0) {
            throw new ProtocolViolation("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        if ((clientFlags & Protocol.CLIENT_FIXED_NEWSTYLE) == 0) {
            throw new ProtocolViolation("the client does not speak the fixed newstyle handshake");
        }
        noZeroes = (clientFlags & Protocol.CLIENT_NO_ZEROES) != 0;
        while (true) {
            if (!in.await(16)) {
                return Optional.empty();
            }
            long magic = in.readLong();
            if (magic != Protocol.IHAVEOPT) {
                throw new ProtocolViolation("bad option magic 0x" + Long.toHexString(magic));
            }
            int code = in.readInt();
            long length = Integer.toUnsignedLong(in.readInt());
            if (length > MAX_OPTION_LENGTH) {
                throw new ProtocolViolation("option " + code + " has " + length + " bytes of data");
            }
            Option option = Option.of(code);
            if (option == null || option == Option.PEEK_EXPORT || option == Option.STARTTLS
                    || option == Option.EXTENDED_HEADERS) {
                in.skip(length);
                reply(code, OptionReply.ERR_UNSUP, message("option " + code + " is not supported"));
                continue;
            }
            switch (option) {
                case EXPORT_NAME -> {
                    String name = in.readString((int) length);
                    Export export = switch (exports.await(name, deadlineNanos)) {
                        case Lookup.Found found -> found.export();
                        // The protocol has no other answer to EXPORT_NAME than closing the connection.
                        case Lookup.Refused refused -> throw new ProtocolViolation(refused.message());
                    };
                    int flags = transmissionFlags(export);
                    ByteBuffer b = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124)).putLong(export.size())
                            .putShort((short) flags);
                    writeFully(b.position(b.capacity()).flip());
                    return Optional.of(new Session(export, structured, structured && name.equals(allocationExport)));
                }
                case ABORT -> {
                    in.skip(length);
                    reply(code, OptionReply.ACK, new byte[0]);
                    return Optional.empty();
                }
                case LIST -> {
                    if (length != 0) {
                        in.skip(length);
                        reply(code, OptionReply.ERR_INVALID, message("LIST takes no data"));
                        continue;
                    }
                    for (Export e : exports.list()) {
                        byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                        byte[] description = e.description().getBytes(StandardCharsets.UTF_8);
                        reply(code, OptionReply.SERVER, ByteBuffer.allocate(4 + name.length + description.length)
                                .putInt(name.length).put(name).put(description).array());
                    }
                    reply(code, OptionReply.ACK, new byte[0]);
                }
                case STRUCTURED_REPLY -> {
                    if (length != 0) {
                        in.skip(length);
                        reply(code, OptionReply.ERR_INVALID, message("STRUCTURED_REPLY takes no data"));
                        continue;
                    }
                    structured = true;
                    reply(code, OptionReply.ACK, new byte[0]);
                }
                case INFO, GO -> {
                    Optional<Session> session = infoOrGo(option, code, in.readBytes((int) length));
                    if (session.isPresent()) {
                        return session;
                    }
                }
                case LIST_META_CONTEXT, SET_META_CONTEXT -> metaContext(option, code, in.readBytes((int) length));
                default -> throw new IllegalStateException("unhandled option " + option);
            }
        }
    }

    private Optional<Session> infoOrGo(Option option, int code, byte[] data) throws IOException, InterruptedException {
        ByteBuffer b = ByteBuffer.wrap(data);
        if (b.remaining() < 4) {
            reply(code, OptionReply.ERR_INVALID, message("option data too short"));
            return Optional.empty();
        }
        long nameLength = Integer.toUnsignedLong(b.getInt());
        if (nameLength > MAX_STRING || nameLength + 2 > b.remaining()) {
            reply(code, OptionReply.ERR_INVALID, message("bad export name length " + nameLength));
            return Optional.empty();
        }
        String name = string(b, (int) nameLength);
        int requests = Short.toUnsignedInt(b.getShort());
        if (b.remaining() != 2 * requests) {
            reply(code, OptionReply.ERR_INVALID, message("the information requests do not match their count"));
            return Optional.empty();
        }
        boolean wantsName = false;
        boolean wantsDescription = false;
        for (int i = 0; i < requests; i++) {
            int info = Short.toUnsignedInt(b.getShort());
            wantsName |= info == Info.NAME.code;
            wantsDescription |= info == Info.DESCRIPTION.code;
        }
        Export export;
        switch (exports.await(name, deadlineNanos)) {
            case Lookup.Found found -> export = found.export();
            case Lookup.Refused refused -> {
                reply(code, OptionReply.ERR_UNKNOWN, message(refused.message()));
                return Optional.empty();
            }
        }
        int flags = transmissionFlags(export);
        reply(code, OptionReply.INFO, ByteBuffer.allocate(12).putShort((short) Info.EXPORT.code)
                .putLong(export.size()).putShort((short) flags).array());
        if (wantsName) {
            byte[] n = export.name().getBytes(StandardCharsets.UTF_8);
            reply(code, OptionReply.INFO, ByteBuffer.allocate(2 + n.length).putShort((short) Info.NAME.code).put(n)
                    .array());
        }
        if (wantsDescription) {
            byte[] d = export.description().getBytes(StandardCharsets.UTF_8);
            reply(code, OptionReply.INFO, ByteBuffer.allocate(2 + d.length).putShort((short) Info.DESCRIPTION.code)
                    .put(d).array());
        }
        // Sent whether asked or not (the protocol allows it). The minimum is 1 because every request is served at any
        // byte offset and length (read-modify-write for partial sectors, see Transmission), as nbdkit and qemu-nbd do.
        reply(code, OptionReply.INFO, ByteBuffer.allocate(14).putShort((short) Info.BLOCK_SIZE.code)
                .putInt(MINIMUM_BLOCK_SIZE).putInt(preferredBlockSize(export)).putInt(maxPayload).array());
        reply(code, OptionReply.ACK, new byte[0]);
        if (option == Option.INFO) {
            return Optional.empty();
        }
        return Optional.of(new Session(export, structured, structured && name.equals(allocationExport)));
    }

    private void metaContext(Option option, int code, byte[] data) throws IOException, InterruptedException {
        boolean set = option == Option.SET_META_CONTEXT;
        if (set) {
            allocationExport = null; // a SET replaces the selection, even when it fails
        }
        if (!structured) {
            reply(code, OptionReply.ERR_INVALID, message("negotiate structured replies first"));
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        List<String> queries = new ArrayList<>();
        String name;
        try {
            name = lengthPrefixedString(b);
            long count = Integer.toUnsignedLong(b.getInt());
            for (long i = 0; i < count; i++) {
                queries.add(lengthPrefixedString(b));
            }
            if (b.hasRemaining()) {
                throw new IllegalArgumentException("trailing bytes");
            }
        } catch (RuntimeException e) {
            reply(code, OptionReply.ERR_INVALID, message("malformed meta context request"));
            return;
        }
        if (exports.await(name, deadlineNanos) instanceof Lookup.Refused refused) {
            reply(code, OptionReply.ERR_UNKNOWN, message(refused.message()));
            return;
        }
        boolean allocation = set
                ? queries.contains(Protocol.BASE_ALLOCATION)
                : queries.isEmpty() || queries.contains(Protocol.BASE_ALLOCATION) || queries.contains("base:");
        if (allocation) {
            byte[] context = Protocol.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            reply(code, OptionReply.META_CONTEXT, ByteBuffer.allocate(4 + context.length)
                    .putInt(set ? Protocol.BASE_ALLOCATION_ID : 0).put(context).array());
            if (set) {
                allocationExport = name;
            }
        }
        reply(code, OptionReply.ACK, new byte[0]);
    }

    /** The transmission flags of an export for this client. */
    private int transmissionFlags(Export export) {
        // Every connection goes to the same Disk, and a flush makes every completed write durable, whichever
        // connection wrote it: that is exactly what multi-connection consistency asks.
        int flags = Protocol.HAS_FLAGS | Protocol.SEND_FLUSH | Protocol.SEND_FUA | Protocol.SEND_CACHE
                | Protocol.CAN_MULTI_CONN;
        if (export.writable()) {
            flags |= Protocol.SEND_TRIM | Protocol.SEND_WRITE_ZEROES | Protocol.SEND_FAST_ZERO;
        } else {
            flags |= Protocol.READ_ONLY;
        }
        if (structured) {
            flags |= Protocol.SEND_DF;
        }
        return flags;
    }

    static int preferredBlockSize(Export export) {
        return Math.max(4096, export.disk().physicalSectorSize());
    }

    private static String lengthPrefixedString(ByteBuffer b) {
        long length = Integer.toUnsignedLong(b.getInt());
        if (length > MAX_STRING || length > b.remaining()) {
            throw new IllegalArgumentException("bad string length");
        }
        return string(b, (int) length);
    }

    private static String string(ByteBuffer b, int length) {
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] message(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private void reply(int option, OptionReply type, byte[] data) throws IOException {
        writeFully(ByteBuffer.allocate(20 + data.length).putLong(Protocol.OPTION_REPLY_MAGIC).putInt(option)
                .putInt(type.code).putInt(data.length).put(data).flip());
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }
}
