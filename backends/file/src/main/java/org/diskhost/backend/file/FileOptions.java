package org.diskhost.backend.file;

import java.nio.file.Path;
import java.util.OptionalLong;

import org.diskhost.api.resolve.Settings;
import org.diskhost.nativeio.uring.UringSupport;

/**
 * The settings of a file disk.
 *
 * @param path the file
 * @param readOnly open the file read-only
 * @param create if the file is missing, create it sparse with this many bytes
 * @param sectorSize the logical sector size: 512 or 4096
 * @param direct bypass the page cache (O_DIRECT)
 * @param ioThreads how many requests run on the file at once (with the uring engine: allocation maps only)
 * @param engine how the file is read and written
 * @param engineAsked whether the settings named the engine (a default {@code uring} may still fall back)
 */
record FileOptions(Path path, boolean readOnly, OptionalLong create, int sectorSize, boolean direct, int ioThreads,
        Engine engine, boolean engineAsked) {

    /** The closed set of engines, by their setting's value. */
    enum Engine {
        /** io_uring: requests go to the kernel from the caller and complete from the ring, no thread blocks. */
        URING("uring"),
        /** Blocking {@code preadv}/{@code pwritev2} on the disk's I/O threads. */
        THREADS("threads"),
        /** Portable {@code FileChannel} on the disk's I/O threads: no FUA per write, no holes, no O_DIRECT. */
        CHANNEL("channel");

        final String setting;

        Engine(String setting) {
            this.setting = setting;
        }

        /** Whether the engine goes through {@link Posix} (native access on Linux). */
        boolean isNative() {
            return this != CHANNEL;
        }
    }

    /** What {@code engine} used to call {@link Engine#THREADS}; still accepted so that old configurations work. */
    static final String THREADS_ALIAS = "native";

    static final String PATH = "path";
    static final String READ_ONLY = "readOnly";
    static final String CREATE = "create";
    static final String SECTOR_SIZE = "sectorSize";
    static final String DIRECT = "direct";
    static final String IO_THREADS = "ioThreads";
    static final String ENGINE = "engine";

    static final int DEFAULT_IO_THREADS = 8;

    /** Reads and validates the settings; {@code forceReadOnly} comes from the user of the disk. */
    static FileOptions parse(Settings settings, boolean forceReadOnly, UringSupport uring) {
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
        boolean engineAsked = settings.optionalString(ENGINE).isPresent();
        Engine engine = engine(settings, uring);
        if (direct && !engine.isNative()) {
            throw settings.invalid(DIRECT, "O_DIRECT needs the uring or threads engine");
        }
        return new FileOptions(path, readOnly, create, (int) sectorSize, direct, (int) ioThreads, engine,
                engineAsked);
    }

    /**
     * The engine the settings ask for, or the default: {@code uring} where {@code uring} is available, else
     * {@code threads} where native access is, else {@code channel}. An engine asked for by name must be available.
     */
    private static Engine engine(Settings settings, UringSupport uring) {
        String asked = settings.optionalString(ENGINE).orElse(null);
        if (asked == null) {
            if (!Posix.AVAILABLE) {
                return Engine.CHANNEL;
            }
            return uring instanceof UringSupport.Available ? Engine.URING : Engine.THREADS;
        }
        Engine engine = switch (asked) {
            case "uring" -> Engine.URING;
            case "threads", THREADS_ALIAS -> Engine.THREADS;
            case "channel" -> Engine.CHANNEL;
            default -> throw settings.invalid(ENGINE,
                    "must be \"uring\", \"threads\" or \"channel\", got \"" + asked + "\"");
        };
        if (engine.isNative() && !Posix.AVAILABLE) {
            throw settings.invalid(ENGINE, "the " + engine.setting + " engine is not available here (it needs Linux "
                    + "and native access: --enable-native-access)");
        }
        if (engine == Engine.URING && uring instanceof UringSupport.Unavailable(String reason)) {
            throw settings.invalid(ENGINE, "the uring engine is not available here: " + reason);
        }
        return engine;
    }
}
