package org.diskhost.backend.file;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.BounceBuffer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.uring.Uring;
import org.diskhost.nativeio.uring.UringException;
import org.diskhost.nativeio.uring.UringSupport;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code file}: a disk stored in a host file. Settings: {@code path} (required), {@code readOnly},
 * {@code create} (a size: create a sparse file if missing), {@code sectorSize} (512 or 4096), {@code direct}
 * (O_DIRECT), {@code ioThreads}, {@code engine} ({@code uring}, {@code threads} or {@code channel}; {@code native}
 * is the old name of {@code threads}).
 *
 * <p>io_uring is probed once, when the resolver starts. Where it is unavailable, disks that do not name their engine
 * use {@code threads} and the first of them logs why; a disk that asks for {@code uring} fails to resolve.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + FileDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class FileDiskResolver implements DiskResolver {
    public static final String KIND = "file";
    private static final Logger LOG = Logger.getLogger(FileDiskResolver.class.getName());

    private final UringSupport uring;
    private final AtomicBoolean fallbackLogged = new AtomicBoolean();

    /** Probes io_uring in this process. */
    public FileDiskResolver() {
        this(Uring.probe());
    }

    /** With {@code uring} as the probe's answer, for tests that force one. */
    FileDiskResolver(UringSupport uring) {
        this.uring = uring;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        FileOptions options = FileOptions.parse(settings, context.readOnly(), uring);
        if (!options.engineAsked() && options.engine() == FileOptions.Engine.THREADS
                && fallbackLogged.compareAndSet(false, true)) {
            LOG.info(() -> "file disks use the threads engine, not uring: " + uring.describe());
        }
        createIfAsked(settings, options);
        return CompletableFuture.completedFuture(open(settings, options));
    }

    private static void createIfAsked(Settings settings, FileOptions options) {
        Path path = options.path();
        if (options.create().isEmpty() || Files.exists(path)) {
            return;
        }
        if (options.readOnly()) {
            throw settings.invalid(FileOptions.CREATE, "cannot create " + path + " for a read-only disk");
        }
        try {
            if (path.getParent() != null) {
                Files.createDirectories(path.getParent());
            }
            Files.createFile(path);
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(options.create().getAsLong()); // sparse: no blocks are allocated
            }
        } catch (FileAlreadyExistsException e) {
            // Created concurrently by someone else: use it.
        } catch (IOException e) {
            throw settings.failure("cannot create " + path, e);
        }
    }

    private Disk open(Settings settings, FileOptions options) {
        Path path = options.path();
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            throw settings.failure(path + " is not a regular file", null);
        }
        FileDisk file;
        try {
            file = FileDisk.open(options, uring);
        } catch (NoSuchFileException e) {
            throw settings.failure("no such file: " + path + " (set '" + FileOptions.CREATE + "' to create it)", null);
        } catch (AccessDeniedException e) {
            throw settings.failure("access denied: " + path, null);
        } catch (UringException e) {
            // Before ErrnoException, its superclass: the ring's errno says nothing about the file.
            throw settings.failure("no io_uring ring for " + path + " (" + FileOptions.ENGINE + "=uring): "
                    + e.getMessage(), e);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EINVAL && options.direct()) {
                throw settings.failure("the file system of " + path + " does not support O_DIRECT", e);
            }
            throw settings.failure("cannot open " + path, e);
        } catch (IOException e) {
            throw settings.failure("cannot open " + path, e);
        }
        if (file.sectorCount() == 0) {
            file.close();
            throw settings.failure(path + " is smaller than one " + options.sectorSize() + "-byte sector", null);
        }
        Disk disk = Disk.of(file);
        if (options.direct()) {
            probeDirect(settings, options, disk);
        }
        return disk;
    }

    /** O_DIRECT can open fine and then refuse transfers smaller than the device's block: find out now. */
    private static void probeDirect(Settings settings, FileOptions options, Disk disk) {
        try (BounceBuffer sector = BounceBuffer.allocate(options.sectorSize())) {
            disk.readVectored(sector.requestBuffers(true), disk.sectorCount() - 1).join();
        } catch (RuntimeException e) {
            disk.close();
            throw settings.failure("O_DIRECT reads of " + options.sectorSize() + "-byte sectors fail on "
                    + options.path() + "; use a larger sectorSize or direct=false", e);
        }
    }
}
