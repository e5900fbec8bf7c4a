package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * A file with no image format: the disk is the file's bytes, in whole 512-byte sectors (a trailing partial sector is
 * not part of it). Kind {@code vhd} serves it when content detection finds no image; it is never a parent. It has no
 * identity: {@link #diskId()} is null.
 */
final class RawImage implements ImageFile {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final boolean readOnly;

    private RawImage(Path path, FileChannel channel, long size, boolean readOnly) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.readOnly = readOnly;
    }

    static RawImage open(Path path, boolean readOnly) throws IOException {
        FileChannel channel = Images.openChannel(path, readOnly);
        try {
            return new RawImage(path, channel, channel.size() & ~511L, readOnly);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long virtualSize() {
        return size;
    }

    @Override
    public int logicalSectorSize() {
        return 512;
    }

    @Override
    public int physicalSectorSize() {
        return 4096;
    }

    /** A raw file carries no identity; null, so the disk reports none. */
    @Override
    public UUID diskId() {
        return null;
    }

    @Override
    public UUID linkageId() {
        return null;
    }

    @Override
    public Optional<ParentReference> parent() {
        return Optional.empty();
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public Extent extentAt(long offset, long maxLength) {
        return new Extent(Math.min(maxLength, size - offset), Extent.State.PRESENT);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        Positional.readFully(channel, dst, offset, path + ": data");
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (offset < 0 || offset > size - src.remaining()) {
            // Writing past the size would grow the file, which changes the disk under its user.
            throw new IllegalArgumentException(path + ": bytes " + offset + " + " + src.remaining()
                    + " are outside the disk's " + size + " bytes");
        }
        Positional.writeFully(channel, src, offset);
    }

    @Override
    public long deallocate(long offset, long length) {
        return 0;
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
