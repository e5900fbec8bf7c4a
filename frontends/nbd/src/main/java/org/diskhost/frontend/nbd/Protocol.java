package org.diskhost.frontend.nbd;

/**
 * Wire constants of the NBD protocol (fixed newstyle handshake, simple and structured replies), as in the protocol
 * document of the NetworkBlockDevice/nbd repository (doc/proto.md). All integers are big-endian on the wire.
 */
final class Protocol {
    private Protocol() {
    }

    static final long NBDMAGIC = 0x4e42444d41474943L; // "NBDMAGIC"
    static final long IHAVEOPT = 0x49484156454F5054L; // "IHAVEOPT"
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    /** Handshake flags (server, 16 bits). */
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;

    /** Client flags (32 bits). */
    static final int CLIENT_FIXED_NEWSTYLE = 1;
    static final int CLIENT_NO_ZEROES = 1 << 1;

    /** Transmission flags (16 bits). */
    static final int HAS_FLAGS = 1;
    static final int READ_ONLY = 1 << 1;
    static final int SEND_FLUSH = 1 << 2;
    static final int SEND_FUA = 1 << 3;
    static final int SEND_TRIM = 1 << 5;
    static final int SEND_WRITE_ZEROES = 1 << 6;
    static final int SEND_DF = 1 << 7;
    static final int CAN_MULTI_CONN = 1 << 8;
    static final int SEND_CACHE = 1 << 10;
    static final int SEND_FAST_ZERO = 1 << 11;

    /** Command flags (16 bits). */
    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    static final int CMD_FLAG_DF = 1 << 2;
    static final int CMD_FLAG_REQ_ONE = 1 << 3;
    static final int CMD_FLAG_FAST_ZERO = 1 << 4;
    static final int CMD_FLAGS_KNOWN = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_DF | CMD_FLAG_REQ_ONE
            | CMD_FLAG_FAST_ZERO;

    /** Structured reply flag: the last chunk of a reply. */
    static final int REPLY_FLAG_DONE = 1;

    /** {@code base:allocation} status flags. */
    static final int STATE_HOLE = 1;
    static final int STATE_ZERO = 2;

    /** The one metadata context this server offers, and the id it is selected under. */
    static final String BASE_ALLOCATION = "base:allocation";
    static final int BASE_ALLOCATION_ID = 1;

    /** Sizes of the fixed parts of messages. */
    static final int REQUEST_HEADER_SIZE = 28;
    static final int SIMPLE_REPLY_SIZE = 16;
    static final int STRUCTURED_HEADER_SIZE = 20;

    /** Options (client to server, during the handshake). */
    enum Option {
        EXPORT_NAME(1), ABORT(2), LIST(3), PEEK_EXPORT(4), STARTTLS(5), INFO(6), GO(7), STRUCTURED_REPLY(8),
        LIST_META_CONTEXT(9), SET_META_CONTEXT(10), EXTENDED_HEADERS(11);

        final int code;

        Option(int code) {
            this.code = code;
        }

        /** The option of a code, or null for one this server does not know. */
        static Option of(int code) {
            for (Option o : values()) {
                if (o.code == code) {
                    return o;
                }
            }
            return null;
        }
    }

    /** Option reply types; the errors have bit 31 set. */
    enum OptionReply {
        ACK(1), SERVER(2), INFO(3), META_CONTEXT(4),
        ERR_UNSUP(0x80000001), ERR_POLICY(0x80000002), ERR_INVALID(0x80000003), ERR_PLATFORM(0x80000004),
        ERR_TLS_REQD(0x80000005), ERR_UNKNOWN(0x80000006), ERR_SHUTDOWN(0x80000007),
        ERR_BLOCK_SIZE_REQD(0x80000008), ERR_TOO_BIG(0x80000009);

        final int code;

        OptionReply(int code) {
            this.code = code;
        }
    }

    /** Information types of {@code NBD_REP_INFO}. */
    enum Info {
        EXPORT(0), NAME(1), DESCRIPTION(2), BLOCK_SIZE(3);

        final int code;

        Info(int code) {
            this.code = code;
        }
    }

    /** Transmission commands. */
    enum Command {
        READ(0), WRITE(1), DISC(2), FLUSH(3), TRIM(4), CACHE(5), WRITE_ZEROES(6), BLOCK_STATUS(7);

        final int code;

        Command(int code) {
            this.code = code;
        }

        private static final Command[] BY_CODE = values();

        /** The command of a code, or null for an unknown one. */
        static Command of(int code) {
            return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        }
    }

    /** Structured reply chunk types. */
    enum Chunk {
        NONE(0), OFFSET_DATA(1), OFFSET_HOLE(2), BLOCK_STATUS(5), ERROR(0x8001), ERROR_OFFSET(0x8002);

        final int code;

        Chunk(int code) {
            this.code = code;
        }
    }
}
