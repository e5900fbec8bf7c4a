package org.diskhost.backend.vhd;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

import org.diskhost.api.resolve.Settings;

/**
 * The settings of a {@code vhd1} or {@code vhd} disk.
 *
 * @param path the image file (for {@code vhd}, the top of its chain)
 * @param readOnly open the image read-only (parents are always read-only)
 * @param create if the file is missing, create an image of this many bytes: fixed for {@code vhd1}, dynamic for
 *        {@code vhd}
 * @param blockSize the block size of a dynamic image that {@code vhd} creates; empty for the format's default (a
 *        differencing image takes its parent's)
 * @param parent {@code vhd} only: if the file is missing, create a differencing image over this parent
 * @param fromRaw {@code vhd1} only: if the file has no VHD footer, append one (its bytes become the disk)
 * @param format {@code vhd} only: the format of an image that {@code create} makes ({@code vhd} or {@code vhdx})
 * @param ioThreads how many requests run at once
 */
record VhdOptions(Path path, boolean readOnly, OptionalLong create, OptionalInt blockSize, Optional<Path> parent,
        boolean fromRaw, Format format, int ioThreads) {

    static final String PATH = "path";
    static final String READ_ONLY = "readOnly";
    static final String CREATE = "create";
    static final String BLOCK_SIZE = "blockSize";
    static final String PARENT = "parent";
    static final String FROM_RAW = "fromRaw";
    static final String FORMAT = "format";
    static final String IO_THREADS = "ioThreads";

    static final int DEFAULT_IO_THREADS = 8;

    /** The formats {@code vhd} creates. */
    enum Format {
        VHD, VHDX
    }

    /** The settings of kind {@code vhd1}: path, readOnly, create, fromRaw, ioThreads. */
    static VhdOptions parseFixed(Settings settings, boolean forceReadOnly) {
        settings.allowOnly(PATH, READ_ONLY, CREATE, FROM_RAW, IO_THREADS);
        Path path = settings.path(PATH);
        boolean readOnly = settings.bool(READ_ONLY, false) || forceReadOnly;
        OptionalLong create = imageSize(settings, CREATE);
        boolean fromRaw = settings.bool(FROM_RAW, false);
        if (fromRaw && readOnly) {
            throw settings.invalid(FROM_RAW, "appends a footer to the file, which a read-only disk cannot do");
        }
        return new VhdOptions(path, readOnly, create, OptionalInt.empty(), Optional.empty(), fromRaw, Format.VHD,
                ioThreads(settings));
    }

    /** The settings of kind {@code vhd}: path, readOnly, create, blockSize, parent, format, ioThreads. */
    static VhdOptions parseChain(Settings settings, boolean forceReadOnly) {
        settings.allowOnly(PATH, READ_ONLY, CREATE, BLOCK_SIZE, PARENT, FORMAT, IO_THREADS);
        Path path = settings.path(PATH);
        boolean readOnly = settings.bool(READ_ONLY, false) || forceReadOnly;
        OptionalLong create = imageSize(settings, CREATE);
        Optional<Path> parent = settings.optionalPath(PARENT);
        if (create.isPresent() && parent.isPresent()) {
            throw settings.invalid(PARENT, "give either 'create' (a new dynamic image) or 'parent' (a new "
                    + "differencing image), not both");
        }
        OptionalInt blockSize = blockSize(settings);
        if (settings.has(BLOCK_SIZE) && create.isEmpty()) {
            throw settings.invalid(BLOCK_SIZE, "applies only to an image that 'create' makes (a differencing "
                    + "image takes its parent's)");
        }
        String format = settings.optionalString(FORMAT).orElse("vhd");
        Format f = switch (format) {
            case "vhd" -> Format.VHD;
            case "vhdx" -> Format.VHDX;
            default -> throw settings.invalid(FORMAT, "must be \"vhd\" or \"vhdx\", got \"" + format + "\"");
        };
        if (settings.has(FORMAT) && create.isEmpty()) {
            throw settings.invalid(FORMAT, "applies only to an image that 'create' makes (a differencing image "
                    + "has its parent's format)");
        }
        return new VhdOptions(path, readOnly, create, blockSize, parent, false, f, ioThreads(settings));
    }

    /** Setting {@code blockSize}: a power of two from 4 KiB to 256 MiB, if given. */
    static OptionalInt blockSize(Settings settings) {
        OptionalLong blockSize = settings.optionalSize(BLOCK_SIZE);
        if (blockSize.isEmpty()) {
            return OptionalInt.empty();
        }
        long n = blockSize.getAsLong();
        if (n < DynamicHeader.MIN_BLOCK_SIZE || n > DynamicHeader.MAX_BLOCK_SIZE || Long.bitCount(n) != 1) {
            throw settings.invalid(BLOCK_SIZE, "must be a power of two from 4 KiB to 256 MiB, got " + n);
        }
        return OptionalInt.of((int) n);
    }

    /** Setting {@code size} or {@code create}: a positive multiple of 512 bytes up to 2040 GiB, if given. */
    static OptionalLong imageSize(Settings settings, String name) {
        OptionalLong size = settings.optionalSize(name);
        if (size.isPresent() && (size.getAsLong() < 512 || size.getAsLong() % 512 != 0
                || size.getAsLong() > DynamicVhd.MAX_SIZE)) {
            throw settings.invalid(name, "must be a positive multiple of 512 bytes up to 2040 GiB, got "
                    + size.getAsLong());
        }
        return size;
    }

    /** Setting {@code ioThreads}: 1 to 256, by default {@value #DEFAULT_IO_THREADS}. */
    static int ioThreads(Settings settings) {
        long ioThreads = settings.integer(IO_THREADS, DEFAULT_IO_THREADS);
        if (ioThreads < 1 || ioThreads > 256) {
            throw settings.invalid(IO_THREADS, "must be between 1 and 256, got " + ioThreads);
        }
        return (int) ioThreads;
    }
}
