package org.diskhost.frontend.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.diskhost.frontend.nbd.Protocol.Chunk;

/** Encodes transmission replies: simple ones, and the chunks of structured ones. */
final class Replies {
    private Replies() {
    }

    /** A simple reply with no data: success ({@code error == null}) or an error. */
    static ByteBuffer simple(long cookie, NbdError error) {
        return ByteBuffer.allocate(Protocol.SIMPLE_REPLY_SIZE)
                .putInt(Protocol.SIMPLE_REPLY_MAGIC)
                .putInt(error == null ? 0 : error.code)
                .putLong(cookie)
                .flip();
    }

    /** The header of a structured chunk; the payload follows. */
    static ByteBuffer chunk(long cookie, Chunk type, boolean done, int payloadLength, int extra) {
        return ByteBuffer.allocate(Protocol.STRUCTURED_HEADER_SIZE + extra)
                .putInt(Protocol.STRUCTURED_REPLY_MAGIC)
                .putShort((short) (done ? Protocol.REPLY_FLAG_DONE : 0))
                .putShort((short) type.code)
                .putLong(cookie)
                .putInt(payloadLength);
    }

    /** The final, empty chunk of a successful reply. */
    static ByteBuffer none(long cookie) {
        return chunk(cookie, Chunk.NONE, true, 0, 0).flip();
    }

    /** The header of an {@code OFFSET_DATA} chunk (the last one) for {@code length} bytes at {@code offset}. */
    static ByteBuffer dataHeader(long cookie, long offset, int length) {
        return chunk(cookie, Chunk.OFFSET_DATA, true, 8 + length, 8).putLong(offset).flip();
    }

    /** An {@code ERROR} chunk, the last one, with a message for people. */
    static ByteBuffer error(long cookie, NbdError error, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, 4096);
        return chunk(cookie, Chunk.ERROR, true, 6 + length, 6 + length)
                .putInt(error.code)
                .putShort((short) length)
                .put(text, 0, length)
                .flip();
    }

    /**
     * A {@code BLOCK_STATUS} chunk, the last one, for context {@code contextId}: descriptors as pairs of length and
     * flags, {@code count} of them.
     */
    static ByteBuffer blockStatus(long cookie, int contextId, int[] descriptors, int count) {
        int payload = 4 + 8 * count;
        ByteBuffer b = chunk(cookie, Chunk.BLOCK_STATUS, true, payload, payload).putInt(contextId);
        for (int i = 0; i < count; i++) {
            b.putInt(descriptors[2 * i]).putInt(descriptors[2 * i + 1]);
        }
        return b.flip();
    }
}
