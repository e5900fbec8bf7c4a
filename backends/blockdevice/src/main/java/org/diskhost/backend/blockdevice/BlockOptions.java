package org.diskhost.backend.blockdevice;

import java.nio.file.Path;
import java.time.Duration;

import org.diskhost.api.resolve.Settings;
import org.diskhost.nativeio.uring.UringSupport;

/**
 * The settings of a block disk.
 *
 * @param path the block device (or a regular file, treated as the reference treats one)
 * @param readOnly open the device read-only
 * @param direct bypass the page cache (O_DIRECT); memory not aligned to the logical sector is bounced
 * @param exclusive open with O_EXCL: the open fails while anybody else (another host, a mount, a RAID member) holds
 *        the device exclusively, and nobody else can take it exclusively while this disk is open
 * @param engine how the device is read and written
 * @param engineAsked whether the settings named the engine (a default {@code uring} may still fall back)
 * @param uevents listen for the kernel's resize uevents
 * @param resizePoll how often the size is re-read without a uevent: the fallback where uevents do not arrive
 * @param ioThreads platform threads for the calls that block (ioctls, and every transfer of the threads engine)
 */
record BlockOptions(Path path, boolean readOnly, boolean direct, boolean exclusive, Engine engine,
        boolean engineAsked, boolean uevents, Duration resizePoll, int ioThreads) {

    /** The closed set of engines, by their setting's value. */
    enum Engine {
        /** io_uring: transfers go to the kernel from the caller and complete from the ring; no thread blocks. */
        URING("uring"),
        /** Blocking {@code FileChannel} transfers on the disk's I/O threads: the fallback, without O_DIRECT. */
        THREADS("threads");

        final String setting;

        Engine(String setting) {
            this.setting = setting;
        }
    }

    static final String PATH = "path";
    static final String READ_ONLY = "readOnly";
    static final String DIRECT = "direct";
    static final String EXCLUSIVE = "exclusive";
    static final String ENGINE = "engine";
    static final String UEVENTS = "uevents";
    static final String RESIZE_POLL = "resizePoll";
    static final String IO_THREADS = "ioThreads";

    static final Duration DEFAULT_RESIZE_POLL = Duration.ofMillis(500);

    /** Reads and validates the settings; {@code forceReadOnly} comes from the user of the disk. */
    static BlockOptions parse(Settings settings, boolean forceReadOnly, UringSupport uring) {
        settings.allowOnly(PATH, READ_ONLY, DIRECT, EXCLUSIVE, ENGINE, UEVENTS, RESIZE_POLL, IO_THREADS);
        Path path = settings.path(PATH);
        boolean readOnly = settings.bool(READ_ONLY, false) || forceReadOnly;
        boolean engineAsked = settings.optionalString(ENGINE).isPresent();
        Engine engine = switch (settings.optionalString(ENGINE).orElse(null)) {
            case null -> uring instanceof UringSupport.Available ? Engine.URING : Engine.THREADS;
            case "uring" -> {
                if (uring instanceof UringSupport.Unavailable(String reason)) {
                    throw settings.invalid(ENGINE, "the uring engine is not available here: " + reason);
                }
                yield Engine.URING;
            }
            case "threads" -> Engine.THREADS;
            case String other -> throw settings.invalid(ENGINE,
                    "must be \"uring\" or \"threads\", got \"" + other + "\"");
        };
        boolean directAsked = settings.has(DIRECT);
        boolean direct = settings.bool(DIRECT, engine == Engine.URING);
        if (direct && engine == Engine.THREADS) {
            throw settings.invalid(directAsked ? DIRECT : ENGINE,
                    "O_DIRECT needs the uring engine" + (engineAsked ? "" : " (" + uring.describe() + ")"));
        }
        Duration resizePoll = settings.duration(RESIZE_POLL, DEFAULT_RESIZE_POLL);
        if (resizePoll.compareTo(Duration.ofMillis(10)) < 0 || resizePoll.compareTo(Duration.ofHours(1)) > 0) {
            throw settings.invalid(RESIZE_POLL, "must be between 10 ms and 1 h, got " + resizePoll);
        }
        long ioThreads = settings.integer(IO_THREADS, 4);
        if (ioThreads < 1 || ioThreads > 256) {
            throw settings.invalid(IO_THREADS, "must be between 1 and 256, got " + ioThreads);
        }
        return new BlockOptions(path, readOnly, direct, settings.bool(EXCLUSIVE, false), engine, engineAsked,
                settings.bool(UEVENTS, true), resizePoll, (int) ioThreads);
    }
}
