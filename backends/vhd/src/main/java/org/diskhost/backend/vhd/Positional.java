package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.diskhost.format.vhd.ImageFormatException;

/** Positional transfers carried to completion: a {@link FileChannel} may transfer fewer bytes than asked. */
final class Positional {
    private Positional() {
    }

    /**
     * Reads {@code dst} (position to limit) from {@code position} on.
     *
     * @throws ImageFormatException naming {@code what} when the file ends first: metadata points past its end
     */
    static void readFully(FileChannel channel, ByteBuffer dst, long position, String what) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                throw new ImageFormatException(what + " at byte " + position + " is past the end of the file ("
                        + channel.size() + " bytes)");
            }
            at += n;
        }
    }

    /** {@code length} bytes from {@code position}, as a new array. */
    static byte[] read(FileChannel channel, long position, int length, String what) throws IOException {
        byte[] bytes = new byte[length];
        readFully(channel, ByteBuffer.wrap(bytes), position, what);
        return bytes;
    }

    /** Writes {@code src} (position to limit) at {@code position}. */
    static void writeFully(FileChannel channel, ByteBuffer src, long position) throws IOException {
        long at = position;
        while (src.hasRemaining()) {
            at += channel.write(src, at);
        }
    }

    static void write(FileChannel channel, byte[] bytes, long position) throws IOException {
        writeFully(channel, ByteBuffer.wrap(bytes), position);
    }
}
