package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;

/**
 * An image whose disk is the file's bytes {@code [0, size)} as they are (a fixed VHD, or a raw file): every sector
 * present, no blocks, no parent. Transfers outside {@code [0, size)} are refused before the file is touched, so
 * whatever follows the data (a fixed VHD's footer) is never read or written and the file never grows.
 */
abstract sealed class FlatImage implements ImageFile permits FixedVhd, RawImage {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final boolean readOnly;

    FlatImage(Path path, FileChannel channel, long size, boolean readOnly) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.readOnly = readOnly;
    }

    @Override
    public final long virtualSize() {
        return size;
    }

    @Override
    public final int logicalSectorSize() {
        return 512;
    }

    @Override
    public final Optional<ParentReference> parent() {
        return Optional.empty();
    }

    @Override
    public final boolean readOnly() {
        return readOnly;
    }

    @Override
    public final Extent extentAt(long offset, long maxLength) {
        return new Extent(Math.min(maxLength, size - offset), Extent.State.PRESENT);
    }

    @Override
    public final void read(long offset, ByteBuffer dst) throws IOException {
        check(offset, dst.remaining());
        Positional.readFully(channel, dst, offset, path + ": data");
    }

    @Override
    public final void write(long offset, ByteBuffer src) throws IOException {
        check(offset, src.remaining());
        Positional.writeFully(channel, src, offset);
    }

    private void check(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException(path + ": bytes " + offset + " + " + length
                    + " are outside the disk's " + size + " bytes");
        }
    }

    /** There are no blocks: nothing can be deallocated. */
    @Override
    public final long deallocate(long offset, long length) {
        return 0;
    }

    @Override
    public final void flush() throws IOException {
        if (!readOnly) {
            channel.force(false);
        }
    }

    @Override
    public final void close() throws IOException {
        channel.close();
    }

    @Override
    public final String toString() {
        return path.toString();
    }
}
