package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A file with no image format: the disk is the file's bytes, in whole 512-byte sectors (a trailing partial sector is
 * not part of it). Kind {@code vhd} serves it when content detection finds no image; it is never a parent. It has no
 * identity: {@link #diskId()} is null.
 */
final class RawImage extends FlatImage {
    private RawImage(Path path, FileChannel channel, long size, boolean readOnly) {
        super(path, channel, size, readOnly);
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
}
