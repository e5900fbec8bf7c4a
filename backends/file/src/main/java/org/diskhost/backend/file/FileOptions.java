package org.diskhost.backend.file;

import java.nio.file.Path;
import java.util.OptionalLong;

import org.diskhost.api.resolve.Settings;

/**
 * The settings of a file disk.
 *
 * @param path the file
 * @param readOnly open the file read-only
 * @param create if the file is missing, create it sparse with this many bytes
 * @param sectorSize the logical sector size: 512 or 4096
 * @param direct bypass the page cache (O_DIRECT)
 * @param ioThreads how many requests run on the file at once
 * @param nativeEngine use the native engine (vectored I/O, FUA per write, hole punching, O_DIRECT)
 */
record FileOptions(Path path, boolean readOnly, OptionalLong create, int sectorSize, boolean direct, int ioThreads,
        boolean nativeEngine) {

    static final String PATH = "path";
    static final String READ_ONLY = "readOnly";
    static final String CREATE = "create";
    static final String SECTOR_SIZE = "sectorSize";
    static final String DIRECT = "direct";
    static final String IO_THREADS = "ioThreads";
    static final String ENGINE = "engine";

    static final int DEFAULT_IO_THREADS = 8;

    /** Reads and validates the settings; {@code forceReadOnly} comes from the user of the disk. */
    static FileOptions parse(Settings settings, boolean forceReadOnly) {
        settings.allowOnly(PATH, READ_ONLY, CREATE, SECTOR_SIZE, DIRECT, IO_THREADS, ENGINE);
        Path path = settings.path(PATH);
        boolean readOnly = settings.bool(READ_ONLY, false) || forceReadOnly;
        long sectorSize = settings.integer(SECTOR_SIZE, 512);
        if (sectorSize != 512 && sectorSize != 4096) {
            throw settings.invalid(SECTOR_SIZE, "must be 512 or 4096, got " + sectorSize);
        }
        OptionalLong create = settings.optionalSize(CREATE);
        if (create.isPresent()) {
            long size = create.getAsLong();
            if (size < sectorSize || size % sectorSize != 0) {
                throw settings.invalid(CREATE, "must be a positive multiple of the " + sectorSize
                        + "-byte sector size, got " + size);
            }
        }
        boolean direct = settings.bool(DIRECT, false);
        long ioThreads = settings.integer(IO_THREADS, DEFAULT_IO_THREADS);
        if (ioThreads < 1 || ioThreads > 256) {
            throw settings.invalid(IO_THREADS, "must be between 1 and 256, got " + ioThreads);
        }
        String engine = settings.optionalString(ENGINE).orElse(Posix.AVAILABLE ? "native" : "channel");
        boolean nativeEngine = switch (engine) {
            case "native" -> {
                if (!Posix.AVAILABLE) {
                    throw settings.invalid(ENGINE, "the native engine is not available here (it needs Linux and "
                            + "native access: --enable-native-access)");
                }
                yield true;
            }
            case "channel" -> false;
            default -> throw settings.invalid(ENGINE, "must be \"native\" or \"channel\", got \"" + engine + "\"");
        };
        if (direct && !nativeEngine) {
            throw settings.invalid(DIRECT, "O_DIRECT needs the native engine");
        }
        return new FileOptions(path, readOnly, create, (int) sectorSize, direct, (int) ioThreads, nativeEngine);
    }
}
