package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.Settings;
import org.diskhost.format.vhd.ImageFormatException;

/** What the {@code vhd1} and {@code vhd} resolvers share: creating a missing image, and opening the disk. */
final class ImageDisks {
    private ImageDisks() {
    }

    /** Something that creates an image file that does not exist yet. */
    @FunctionalInterface
    interface Creator {
        void create(Path path) throws IOException;
    }

    /**
     * Creates the image at {@code options.path()} with {@code creator} unless the file exists; a file created
     * meanwhile by someone else is used as it is.
     *
     * @param what the image to create, for messages ("a fixed VHD of 64 MiB")
     */
    static void createIfMissing(Settings settings, VhdOptions options, String setting, String what, Creator creator) {
        Path path = options.path();
        if (Files.exists(path)) {
            return;
        }
        if (options.readOnly()) {
            throw settings.invalid(setting, "cannot create " + path + " for a read-only disk");
        }
        try {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            creator.create(path);
        } catch (FileAlreadyExistsException e) {
            // Created concurrently by someone else: use it.
        } catch (IllegalArgumentException e) {
            throw settings.invalid(setting, e.getMessage());
        } catch (IOException e) {
            throw settings.failure("cannot create " + what + " at " + path + ": " + e.getMessage(), e);
        }
    }

    /** Opens the images with {@code opener} and serves them as one disk of {@code kind}. */
    static Disk open(Settings settings, VhdOptions options, String kind, ChainOpener opener) {
        Path path = options.path();
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw settings.failure(path + " is not a regular file", null);
        }
        List<ImageFile> chain;
        try {
            chain = opener.open(path, options.readOnly());
        } catch (NoSuchFileException e) {
            if (e.getFile() != null && Path.of(e.getFile()).equals(path)) {
                throw settings.failure("no such file: " + path + " (set '" + VhdOptions.CREATE + "' to create it)",
                        null);
            }
            throw settings.failure("no such file: " + e.getFile(), null);
        } catch (AccessDeniedException e) {
            throw settings.failure("access denied: " + e.getFile(), null);
        } catch (ImageFormatException e) {
            throw settings.failure(e.getMessage(), null);
        } catch (IOException e) {
            throw settings.failure("cannot open " + path + ": " + e.getMessage(), e);
        }
        if (chain.getFirst().virtualSize() < chain.getFirst().logicalSectorSize()) {
            Images.closeAll(chain);
            throw settings.failure(path + " is smaller than one " + chain.getFirst().logicalSectorSize()
                    + "-byte sector", null);
        }
        try {
            return Disk.of(new ChainDisk(kind, path.getFileName().toString(), chain, options.ioThreads()));
        } catch (RuntimeException e) {
            Images.closeAll(chain);
            throw settings.failure("cannot serve " + path + ": " + e.getMessage(), e);
        }
    }

    /** Opens an image file and whatever it needs (its parents), top first. */
    @FunctionalInterface
    interface ChainOpener {
        List<ImageFile> open(Path path, boolean readOnly) throws IOException;
    }

    /** For messages: {@code 67108864} as "64 MiB" where it is whole. */
    static String size(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int unit = 0;
        long n = bytes;
        while (unit < units.length - 1 && n >= 1024 && n % 1024 == 0) {
            n /= 1024;
            unit++;
        }
        return n + " " + units[unit];
    }
}
