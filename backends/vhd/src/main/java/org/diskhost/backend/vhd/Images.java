package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.diskhost.backend.vhd.ImageFile.ParentReference;
import org.diskhost.backend.vhd.vhdx.VhdxCreateOptions;
import org.diskhost.backend.vhd.vhdx.VhdxImage;
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * Opening image files by their content, not their name, and opening differencing chains. This is the one place that
 * knows every format: the VHDX dispatch is wired here.
 */
final class Images {
    /** A chain deeper than this is refused: no real chain is, and a loop that escaped detection ends here. */
    static final int MAX_DEPTH = 64;

    private static final byte[] VHDX_SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);

    private Images() {
    }

    /** What a file holds, by its content. */
    enum Format {
        /** "vhdxfile" at offset 0. */
        VHDX,
        /** A VHD footer ("conectix") at the end, or at offset 0 with a damaged end (a dynamic VHD after a crash). */
        VHD,
        /** Anything else. */
        RAW
    }

    static FileChannel openChannel(Path path, boolean readOnly) throws IOException {
        return readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Detects the format of {@code path} from its first and last bytes. */
    static Format detect(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return detect(channel);
        }
    }

    static Format detect(FileChannel channel) throws IOException {
        long length = channel.size();
        byte[] head = new byte[(int) Math.min(length, VhdFooter.SIZE)];
        Positional.readFully(channel, ByteBuffer.wrap(head), 0, "file start");
        if (startsWith(head, VHDX_SIGNATURE)) {
            return Format.VHDX;
        }
        if (length >= VhdFooter.SIZE) {
            byte[] tail = Positional.read(channel, length - VhdFooter.SIZE, 8, "file end");
            if (VhdFooter.hasCookie(tail)) {
                return Format.VHD;
            }
            // A dynamic VHD whose footer at the end was lost in a crash still has its copy at offset 0; a raw disk
            // that merely starts with the cookie has no valid checksum there.
            if (VhdFooter.hasCookie(head)) {
                try {
                    if (VhdFooter.parse(head, "").type() != VhdFooter.VhdType.FIXED) {
                        return Format.VHD;
                    }
                } catch (ImageFormatException e) {
                    return Format.RAW;
                }
            }
        }
        return Format.RAW;
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Opens one image by its content: VHDX, a VHD of any type, or (only with {@code rawAllowed}) a raw file.
     *
     * @throws ImageFormatException when the content is a damaged image, or raw where raw is not allowed
     */
    static ImageFile open(Path path, boolean readOnly, boolean rawAllowed) throws IOException {
        return switch (detect(path)) {
            case VHDX -> openVhdx(path, readOnly);
            case VHD -> openVhd(path, readOnly);
            case RAW -> {
                if (!rawAllowed) {
                    throw new ImageFormatException(path + ": neither a VHD nor a VHDX (no \"conectix\" footer, no "
                            + "\"vhdxfile\" signature)");
                }
                yield RawImage.open(path, readOnly);
            }
        };
    }

    /** Opens a VHD of any type: fixed, dynamic or differencing. */
    static VhdFile openVhd(Path path, boolean readOnly) throws IOException {
        VhdFooter.VhdType type;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length < VhdFooter.SIZE) {
                throw new ImageFormatException(path + ": " + length + " bytes are too short for a VHD");
            }
            byte[] end = Positional.read(channel, length - VhdFooter.SIZE, VhdFooter.SIZE, path + ": footer");
            type = VhdFooter.hasCookie(end) ? VhdFooter.parse(end, path.toString()).type() : null;
        }
        return type == VhdFooter.VhdType.FIXED ? FixedVhd.open(path, readOnly) : DynamicVhd.open(path, readOnly);
    }

    /** Opens a VHDX image (package {@code vhdx}). */
    static ImageFile openVhdx(Path path, boolean readOnly) throws IOException {
        return VhdxImage.open(path, readOnly);
    }

    /** Creates a dynamic VHDX of {@code size} bytes, with blocks of {@code blockSize} bytes or the VHDX default. */
    static void createVhdx(Path path, long size, java.util.OptionalInt blockSize) throws IOException {
        VhdxCreateOptions options;
        try {
            options = VhdxCreateOptions.of(size);
            if (blockSize.isPresent()) {
                options = options.withBlockSize(blockSize.getAsInt());
            }
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(path + ": cannot create a VHDX image: " + e.getMessage());
        }
        VhdxImage.createDynamic(path, options).close();
    }

    /**
     * Creates a differencing VHDX over the VHDX {@code parentPath}: the same disk (size, sector sizes, disk id) with
     * the parent's block size.
     */
    static void createVhdxDifferencing(Path path, Path parentPath) throws IOException {
        VhdxCreateOptions options;
        try (VhdxImage parent = VhdxImage.open(parentPath, true)) {
            options = VhdxCreateOptions.of(parent.virtualSize()).withBlockSize(parent.blockSize());
        }
        VhdxImage.createDifferencing(path, parentPath, options).close();
    }

    /**
     * Opens {@code top} by its content and then its parents, top first. Parents are opened read-only, found through
     * the child's {@link ParentReference} (each candidate relative to the child's directory unless absolute, the
     * first that exists wins), and must be images of a format with parents (never raw) whose linkage id is the one
     * the child recorded, with the child's sector size.
     *
     * @throws ImageFormatException for a missing parent (naming every candidate tried), a wrong linkage id, a
     *         circular chain (naming the files in it), a chain deeper than {@value #MAX_DEPTH}, or a damaged file
     */
    static List<ImageFile> openChain(Path top, boolean readOnly, boolean rawAllowed) throws IOException {
        List<ImageFile> chain = new ArrayList<>();
        List<Path> seen = new ArrayList<>();
        try {
            ImageFile image = open(top, readOnly, rawAllowed);
            chain.add(image);
            seen.add(top.toRealPath());
            Path current = top;
            Optional<ParentReference> parent = image.parent();
            while (parent.isPresent()) {
                if (chain.size() >= MAX_DEPTH) {
                    throw new ImageFormatException(top + ": the differencing chain is deeper than " + MAX_DEPTH);
                }
                Path parentPath = findParent(current, parent.get());
                Path real = parentPath.toRealPath();
                int loop = seen.indexOf(real);
                if (loop >= 0) {
                    List<String> names = new ArrayList<>();
                    seen.subList(loop, seen.size()).forEach(p -> names.add(p.toString()));
                    names.add(real.toString());
                    throw new ImageFormatException(top + ": circular parent chain: " + String.join(" -> ", names));
                }
                ImageFile child = chain.getLast();
                ImageFile next = open(parentPath, true, false);
                chain.add(next);
                seen.add(real);
                UUID expected = parent.get().linkageId();
                if (!expected.equals(next.linkageId())) {
                    throw new ImageFormatException(current + ": its parent " + parentPath + " has linkage id "
                            + next.linkageId() + ", but the child was made from " + expected
                            + " (the parent was changed or replaced)");
                }
                if (next.logicalSectorSize() != child.logicalSectorSize()) {
                    throw new ImageFormatException(current + ": its parent " + parentPath + " has "
                            + next.logicalSectorSize() + "-byte sectors, the child " + child.logicalSectorSize());
                }
                current = parentPath;
                parent = next.parent();
            }
            return chain;
        } catch (IOException | RuntimeException e) {
            closeAll(chain);
            throw e;
        }
    }

    private static Path findParent(Path child, ParentReference reference) throws ImageFormatException {
        Path directory = child.toAbsolutePath().getParent();
        List<String> tried = new ArrayList<>();
        for (String candidate : reference.candidatePaths()) {
            Path p;
            try {
                p = Path.of(candidate);
            } catch (InvalidPathException e) {
                continue;
            }
            Path resolved = p.isAbsolute() ? p : directory.resolve(p).normalize();
            tried.add(resolved.toString());
            if (Files.isRegularFile(resolved)) {
                return resolved;
            }
        }
        throw new ImageFormatException(child + ": its parent (linkage id " + reference.linkageId()
                + ") is missing; tried " + (tried.isEmpty() ? "nothing: the image records no parent path"
                        : String.join(", ", tried)));
    }

    static void closeAll(List<ImageFile> images) {
        for (ImageFile image : images) {
            try {
                image.close();
            } catch (IOException e) {
                // Closing after a failure: the failure is what the caller reports.
            }
        }
    }
}
