package org.diskhost.backend.vhd.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import org.diskhost.format.vhd.ImageFormatException;

/**
 * Positional access to the image file. When a read-only image has a log to replay, the replayed 4 KiB pages are
 * kept here as an overlay instead of being written: every read (structures and payload alike) sees the file as it
 * would be after the replay, and the file itself is not touched.
 */
final class ImageChannel {
    static final int PAGE = 4096;

    private final Path path;
    private final FileChannel channel;
    /** Replayed pages by file offset (read-only images only); empty when the log was empty. */
    private final NavigableMap<Long, byte[]> overlay = new TreeMap<>();
    /** The file length the replayed log asks for; reads below it and past the real end see zeros. */
    private long overlayLength;

    ImageChannel(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    Path path() {
        return path;
    }

    FileChannel channel() {
        return channel;
    }

    /** The file's length, as extended by a log replayed in memory. */
    long size() throws IOException {
        return Math.max(channel.size(), overlayLength);
    }

    /** Records a replayed page (in memory only); later pages replace earlier ones at the same offset. */
    void overlayPage(long offset, byte[] page) {
        overlay.put(offset, page);
    }

    /** Forgets replayed pages in {@code [from, to)}: a later zero descriptor covers them. */
    void dropOverlay(long from, long to) {
        if (from < to) {
            overlay.subMap(from, true, to, false).clear();
        }
    }

    int overlayPages() {
        return overlay.size();
    }

    void overlayLength(long length) {
        overlayLength = Math.max(overlayLength, length);
    }

    boolean hasOverlay() {
        return !overlay.isEmpty() || overlayLength > 0;
    }

    /**
     * Reads exactly {@code dst.remaining()} bytes at {@code pos}.
     *
     * @throws ImageFormatException naming {@code what} when the bytes reach past the end of the file
     */
    void read(long pos, ByteBuffer dst, String what) throws IOException {
        int want = dst.remaining();
        long size = size();
        if (pos < 0 || pos > size - want) {
            throw new ImageFormatException(path + ": " + what + " at offset " + pos + " (" + want
                    + " bytes) reaches past the end of the file (" + size + " bytes): the file is truncated");
        }
        int start = dst.position();
        long fileSize = channel.size();
        long p = pos;
        while (dst.hasRemaining() && p < fileSize) {
            int n = channel.read(dst, p);
            if (n < 0) {
                break;
            }
            p += n;
        }
        // Only an in-memory replay makes the file longer than it is: those bytes are zeros until a page says not.
        while (dst.hasRemaining()) {
            if (overlayLength == 0 && channel.size() < pos + want) {
                throw new ImageFormatException(path + ": " + what + " at offset " + pos
                        + ": the file shrank while it was read");
            }
            dst.put((byte) 0);
        }
        if (!overlay.isEmpty()) {
            patch(pos, dst, start, want);
        }
    }

    private void patch(long pos, ByteBuffer dst, int start, int length) {
        Long from = overlay.floorKey(pos);
        NavigableMap<Long, byte[]> pages = overlay.subMap(from == null ? pos : from, true, pos + length, false);
        for (Map.Entry<Long, byte[]> e : pages.entrySet()) {
            long pageStart = e.getKey();
            long lo = Math.max(pageStart, pos);
            long hi = Math.min(pageStart + PAGE, pos + length);
            if (lo < hi) {
                dst.put(start + (int) (lo - pos), e.getValue(), (int) (lo - pageStart), (int) (hi - lo));
            }
        }
    }

    /** Writes all of {@code src} at {@code pos}. */
    void write(long pos, ByteBuffer src) throws IOException {
        long p = pos;
        while (src.hasRemaining()) {
            p += channel.write(src, p);
        }
    }

    /** Writes {@code length} zero bytes at {@code pos}. */
    void writeZeros(long pos, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long done = 0;
        while (done < length) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - done));
            write(pos + done, zeros);
            done += zeros.limit();
        }
    }

    /** Makes every write so far durable, including the file's length. */
    void force() throws IOException {
        channel.force(true);
    }
}
