package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.diskhost.format.vhd.VhdFooter.VhdType;
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * A fixed VHD: the disk's bytes as they are, then a 512-byte footer. Every sector is present. The footer is never
 * written, and no transfer reaches it (see {@link FlatImage}).
 */
final class FixedVhd extends FlatImage implements VhdFile {
    private final VhdFooter footer;

    private FixedVhd(Path path, FileChannel channel, VhdFooter footer, boolean readOnly) {
        super(path, channel, footer.currentSize(), readOnly);
        this.footer = footer;
    }

    /**
     * Opens a fixed VHD, checking, in the reference's order: the file's length (at least 512, a multiple of 512), the
     * footer's cookie, checksum, version, disk type (fixed) and current size (a multiple of 512 that fits before the
     * footer).
     *
     * @throws ImageFormatException naming the file and the check that failed
     */
    static FixedVhd open(Path path, boolean readOnly) throws IOException {
        FileChannel channel = Images.openChannel(path, readOnly);
        try {
            VhdFooter footer = readFooter(path, channel);
            return new FixedVhd(path, channel, footer, readOnly);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The validated footer of the fixed VHD in {@code channel}, in the order {@link #open} states. */
    static VhdFooter readFooter(Path path, FileChannel channel) throws IOException {
        long length = channel.size();
        VhdFooter.checkFixedLength(length, path.toString());
        byte[] bytes = Positional.read(channel, length - VhdFooter.SIZE, VhdFooter.SIZE, path + ": VHD footer");
        return VhdFooter.parseFixed(length, bytes, path.toString());
    }

    /**
     * Creates a fixed VHD of at least {@code size} bytes of zeros (sparse where the file system allows) with a new
     * footer: the size is {@linkplain VhdFooter#chsRoundedSize rounded up to a CHS geometry}. The file must not exist.
     *
     * @throws IllegalArgumentException when the size is not a positive multiple of 512
     */
    static void create(Path path, long size) throws IOException {
        if (size <= 0 || size % 512 != 0) {
            throw new IllegalArgumentException("a fixed VHD's size is a positive multiple of 512, got " + size);
        }
        long rounded = VhdFooter.chsRoundedSize(size);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Positional.write(channel, VhdFooter.create(VhdType.FIXED, rounded, VhdFooter.NO_DATA_OFFSET).encode(),
                    rounded);
            channel.force(true);
        }
    }

    /**
     * Makes the raw file at {@code path} a fixed VHD by appending a footer: its bytes become the disk, followed by
     * the zeros that {@linkplain VhdFooter#chsRoundedSize round its size up to a CHS geometry}.
     *
     * @throws ImageFormatException when the file's length is not a positive multiple of 512, or the file already ends
     *         in a VHD footer cookie (a footer, maybe damaged, is never covered by another)
     */
    static void appendFooter(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long length = channel.size();
            if (length <= 0 || length % 512 != 0) {
                throw new ImageFormatException(path + ": a raw file becomes a fixed VHD only when its length is a "
                        + "positive multiple of 512, but it has " + length + " bytes");
            }
            if (VhdFooter.hasCookie(Positional.read(channel, length - VhdFooter.SIZE, 8, path + ": end"))) {
                throw new ImageFormatException(path + ": already ends in a VHD footer");
            }
            long rounded = VhdFooter.chsRoundedSize(length);
            Positional.write(channel, VhdFooter.create(VhdType.FIXED, rounded, VhdFooter.NO_DATA_OFFSET).encode(),
                    rounded);
            channel.force(true);
        }
    }

    @Override
    public VhdFooter footer() {
        return footer;
    }

    @Override
    public String format() {
        return "vhd-fixed";
    }
}
