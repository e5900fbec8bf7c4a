package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.diskhost.nativeio.ioctl.Errnos;
import org.diskhost.nativeio.ioctl.Ioctl;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.uring.Uring;
import org.diskhost.nativeio.uring.UringException;
import org.diskhost.nativeio.uring.UringSupport;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code block}: a Linux block device, or a regular file treated as one. Settings: {@code path}
 * (required), {@code readOnly}, {@code direct} (O_DIRECT; default true with the uring engine), {@code exclusive}
 * (O_EXCL), {@code engine} ({@code uring} or {@code threads}), {@code uevents}, {@code resizePoll},
 * {@code ioThreads}; see {@link BlockOptions}.
 *
 * <p>io_uring is probed once, when the resolver starts. Where it is unavailable, disks that do not name their engine
 * use {@code threads} (through the page cache) and the first of them logs why; a disk that asks for {@code uring}
 * fails to resolve.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + BlockDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class BlockDiskResolver implements DiskResolver {
    public static final String KIND = "block";
    private static final Logger LOG = Logger.getLogger(BlockDiskResolver.class.getName());

    private final UringSupport uring;
    private final AtomicBoolean fallbackLogged = new AtomicBoolean();

    /** Probes io_uring in this process. */
    public BlockDiskResolver() {
        this(Uring.probe());
    }

    /** With {@code uring} as the probe's answer, for tests that force one. */
    BlockDiskResolver(UringSupport uring) {
        this.uring = uring;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        if (Ioctl.unavailable().isPresent()) {
            throw settings.failure("block devices need native access: " + Ioctl.unavailable().get(), null);
        }
        BlockOptions options = BlockOptions.parse(settings, context.readOnly(), uring);
        if (!options.engineAsked() && options.engine() == BlockOptions.Engine.THREADS
                && fallbackLogged.compareAndSet(false, true)) {
            LOG.info(() -> "block disks use the threads engine through the page cache, not uring: "
                    + uring.describe());
        }
        return CompletableFuture.completedFuture(Disk.of(open(settings, options)));
    }

    private BlockDisk open(Settings settings, BlockOptions options) {
        Path path = options.path();
        try {
            return BlockDisk.open(options, uring);
        } catch (NoSuchFileException e) {
            throw settings.failure("no such device or file: " + path, null);
        } catch (AccessDeniedException e) {
            throw settings.failure("access denied: " + path, null);
        } catch (UringException e) {
            // Before ErrnoException, its superclass: the ring's errno says nothing about the device.
            throw settings.failure("no io_uring ring for " + path + " (" + BlockOptions.ENGINE + "=uring): "
                    + e.getMessage(), e);
        } catch (ErrnoException e) {
            throw settings.failure(switch (e.errno()) {
                case Errnos.EBUSY -> options.exclusive()
                        ? path + " is busy: another user holds it exclusively or it is mounted (exclusive=true)"
                        : path + " is busy";
                case Errnos.EINVAL -> options.direct()
                        ? "O_DIRECT is not supported for " + path + "; set direct=false"
                        : "cannot open " + path;
                case Errnos.EROFS, Errnos.EACCES -> options.readOnly() ? "access denied: " + path
                        : path + " cannot be opened for writing; set readOnly=true";
                case Errnos.ENOENT, Errnos.ENXIO, Errnos.ENODEV -> "no such device: " + path;
                default -> "cannot open " + path + ": " + e.getMessage();
            }, e);
        } catch (IOException e) {
            throw settings.failure("cannot open " + path + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw settings.failure(path + " reports an unusable geometry: " + e.getMessage(), e);
        }
    }
}
