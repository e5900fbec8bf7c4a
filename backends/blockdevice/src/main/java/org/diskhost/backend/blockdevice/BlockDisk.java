package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.BounceBuffer;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;
import org.diskhost.api.pr.PersistentReservation;
import org.diskhost.nativeio.ioctl.BlockIoctls;
import org.diskhost.nativeio.ioctl.CdromIoctls;
import org.diskhost.nativeio.ioctl.Errnos;
import org.diskhost.nativeio.ioctl.Ioctl;
import org.diskhost.nativeio.ioctl.NvmePassthrough;
import org.diskhost.nativeio.libc.ErrnoException;
import org.diskhost.nativeio.uring.UringSupport;

/**
 * A Linux block device (the reference's {@code BlockDeviceDisk}, §6.5), or a regular file treated as the reference
 * treats one. Transfers go to the disk's own io_uring (the threads engine where io_uring is missing); with
 * {@code direct} they bypass the page cache and memory not aligned to the logical sector is bounced.
 *
 * <ul>
 * <li>Reads and writes are vectored at byte {@code sector × sectorSize}; a short transfer is {@link
 * DiskError.IllegalBlock}: for a block device the kernel enforces the range, so that is how an access past the end
 * shows. A regular file is also range-checked before a write, so it never grows.</li>
 * <li>FUA writes carry RWF_DSYNC; {@link #syncCache()} is a full fsync.</li>
 * <li>Unmap is BLKDISCARD on a block device (unmapped sectors read as whatever the device says: {@link
 * UnmapBehavior#UNSPECIFIED}), a punched hole in a regular file ({@link UnmapBehavior#ZEROES}), and ignored where
 * the discard granularity is 0.</li>
 * <li>The sector count of a block device follows resizes ({@link DeviceSize}); a regular file's is fixed at open.</li>
 * <li>Failures are mapped by {@link DeviceErrors}; a device that goes away fails requests with {@link
 * DiskError.Io}, never hangs them.</li>
 * </ul>
 */
final class BlockDisk implements DiskIo {
    private static final Logger LOG = Logger.getLogger(BlockDisk.class.getName());
    /** S_IFMT and S_IFBLK of st_mode. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private final BlockOptions options;
    private final String where;
    private final int fd;
    private final Device device;
    private final Transfers transfers;
    private final String engine;
    private final IoThreads threads;
    /** The live size of a block device; null for a regular file, whose size is fixed. */
    private final DeviceSize size;
    private final boolean readOnly;
    private final int sectorSize;
    private final int sectorShift;
    private final Optional<PersistentReservation> pr;
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LongAdder bounced = new LongAdder();

    private BlockDisk(BlockOptions options, String where, int fd, Device device, Transfers transfers, String engine,
            IoThreads threads, boolean readOnly) {
        this.options = options;
        this.where = where;
        this.fd = fd;
        this.device = device;
        this.transfers = transfers;
        this.engine = engine;
        this.threads = threads;
        this.readOnly = readOnly;
        this.sectorSize = device.logicalSectorSize();
        this.sectorShift = Integer.numberOfTrailingZeros(sectorSize);
        this.size = device.kind() == Device.Kind.BLOCK_DEVICE
                ? new DeviceSize(where, () -> Device.currentSize(fd), device.sizeBytes(), sectorShift,
                        options.resizePoll(), options.uevents(), device.major(), device.minor())
                : null;
        this.pr = reservations();
    }

    /**
     * Opens the device or file of {@code options}. The uring engine needs {@code uring} to be available (as
     * {@link BlockOptions#parse} checked); when the kernel then refuses this disk a ring, a default engine falls back
     * to threads with a warning, one asked for by name fails.
     */
    static BlockDisk open(BlockOptions options, UringSupport uring) throws IOException {
        Path path = options.path();
        int mode = (Integer) Files.getAttribute(path, "unix:mode");
        boolean blockDevice = (mode & S_IFMT) == S_IFBLK;
        if (!blockDevice && !Files.isRegularFile(path)) {
            throw new IOException(path + " is neither a block device nor a regular file");
        }
        if (options.exclusive() && !blockDevice) {
            throw new IOException("exclusive needs a block device; " + path + " is a regular file");
        }
        String where = "block disk " + path;
        int flags = (options.readOnly() ? Ioctl.O_RDONLY : Ioctl.O_RDWR) | (options.direct() ? Ioctl.O_DIRECT : 0)
                | (options.exclusive() ? Ioctl.O_EXCL : 0);
        int fd = Ioctl.open(path.toString(), flags);
        IoThreads threads = new IoThreads(String.valueOf(path.getFileName()), options.ioThreads());
        Transfers transfers = null;
        try {
            String engine;
            if (options.engine() == BlockOptions.Engine.URING && uring instanceof UringSupport.Available available) {
                try {
                    transfers = new RingTransfers(available.open("block-" + path.getFileName(),
                            RingTransfers.ENTRIES), fd);
                } catch (IOException e) {
                    if (options.engineAsked()) {
                        throw e;
                    }
                    LOG.warning(where + ": using the threads engine through the page cache, no io_uring ring: "
                            + e.getMessage());
                }
            }
            if (transfers == null) {
                FileChannel channel = options.readOnly() ? FileChannel.open(path, StandardOpenOption.READ)
                        : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                transfers = new ChannelTransfers(channel, threads);
                engine = "threads";
            } else {
                engine = options.direct() ? "uring (O_DIRECT)" : "uring";
            }
            Device device;
            boolean readOnly = options.readOnly();
            if (blockDevice) {
                long rdev = (Long) Files.getAttribute(path, "unix:rdev");
                device = Device.ofBlockDevice(fd, Device.major(rdev), Device.minor(rdev), Device.SYS_DEV_BLOCK);
                if (!readOnly && BlockIoctls.readOnly(fd)) {
                    LOG.info(where + ": the device is read-only, so is the disk");
                    readOnly = true;
                }
            } else {
                long length = Files.size(path);
                device = Device.ofRegularFile(path, length, !readOnly && canPunchHoles(transfers, length));
            }
            if (device.sizeBytes() == 0) {
                throw new IOException(path + " is smaller than one " + device.logicalSectorSize() + "-byte sector");
            }
            return new BlockDisk(options, where, fd, device, transfers, engine, threads, readOnly);
        } catch (IOException | RuntimeException e) {
            if (transfers != null) {
                transfers.close();
            }
            threads.close();
            Ioctl.close(fd);
            throw e;
        }
    }

    /** The reference's harmless probe: punch one byte past the end of the file, keeping its size. */
    private static boolean canPunchHoles(Transfers transfers, long length) {
        if (!transfers.canPunchHoles()) {
            return false;
        }
        try {
            transfers.punchHole(length, 1).join();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Reservations where the device is an NVMe namespace whose controller and namespace support them. */
    private Optional<PersistentReservation> reservations() {
        if (device.namespaceId().isEmpty()) {
            return Optional.empty();
        }
        int nsid = device.namespaceId().getAsInt();
        try {
            if (!NvmePassthrough.identifyController(fd).reservations()) {
                return Optional.empty();
            }
            int rescap = NvmePassthrough.identifyNamespace(fd, nsid).rescap();
            return rescap == 0 ? Optional.empty()
                    : Optional.of(new BlockReservations(fd, nsid, rescap, threads, where));
        } catch (IOException e) {
            LOG.warning(where + ": no persistent reservations, Identify failed: " + e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public String diskType() {
        return "block";
    }

    @Override
    public long sectorCount() {
        return size == null ? device.sizeBytes() >>> sectorShift : size.sectors();
    }

    @Override
    public int sectorSize() {
        return sectorSize;
    }

    @Override
    public Optional<DiskId> diskId() {
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return device.physicalSectorSize();
    }

    /**
     * The reference's answer: a block device's {@code queue/fua}, false for a regular file. (RWF_DSYNC makes a FUA
     * write durable on any block device; a device without FUA only reports that the kernel adds a flush.)
     */
    @Override
    public boolean isFuaRespected() {
        return device.fua();
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        if (device.discardGranularity() == 0) {
            return UnmapBehavior.IGNORED;
        }
        return device.kind() == Device.Kind.REGULAR_FILE ? UnmapBehavior.ZEROES : UnmapBehavior.UNSPECIFIED;
    }

    @Override
    public int optimalUnmapSectors() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, device.discardGranularity() >>> sectorShift));
    }

    @Override
    public Optional<PersistentReservation> pr() {
        return pr;
    }

    /** Whether a request reaches past what this disk may touch before asking the kernel. */
    private boolean outside(long sector, long count) {
        if (device.kind() == Device.Kind.REGULAR_FILE) {
            return !Disk.fits(sector, count, sectorCount());
        }
        // The kernel checks the range; only byte offsets that do not fit in a long are refused here.
        return sector < 0 || count < 0 || sector > (Long.MAX_VALUE >>> sectorShift) - count;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return transfer(buffers, sector, false, false);
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return transfer(buffers, sector, true, fua);
    }

    /** A read or write of the whole sectors of {@code buffers} at {@code sector}, in place or through a bounce. */
    private CompletableFuture<Void> transfer(RequestBuffers buffers, long sector, boolean write, boolean fua) {
        long count = buffers.length() >>> sectorShift;
        if (outside(sector, count)) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (write && readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long length = count << sectorShift;
        long offset = sector << sectorShift;
        RequestBuffers sectors = buffers.subrange(0, length); // a trailing partial sector is not transferred
        CompletableFuture<Void> done;
        try {
            List<MemorySegment> segments = sectors.segments(!write);
            done = usableInPlace(segments) ? transfer(segments, offset, write, fua)
                    : bounced(sectors, offset, write, fua);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(DeviceErrors.of(e, device.kind(), where));
        }
        return finish(done, () -> {
            (write ? writes : reads).increment();
            (write ? bytesWritten : bytesRead).add(length);
        });
    }

    /** Moves {@code sectors} through a bounce buffer of the disk's own, aligned for O_DIRECT. */
    private CompletableFuture<Void> bounced(RequestBuffers sectors, long offset, boolean write, boolean fua) {
        bounced.increment();
        BounceBuffer bounce = BounceBuffer.allocate(sectors.length());
        try {
            if (write) {
                sectors.reader().read(bounce.segment());
            }
            CompletableFuture<Void> moved = transfer(List.of(bounce.segment()), offset, write, fua);
            if (!write) {
                moved = moved.thenRun(() -> sectors.writer().write(bounce.segment()));
            }
            return moved.whenComplete((ok, failure) -> bounce.close());
        } catch (RuntimeException e) {
            bounce.close();
            throw e;
        }
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        if (readOnly) {
            return CompletableFuture.completedFuture(null);
        }
        return finish(transfers.fsync(), () -> { });
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        // Checked here also for a block device: BLKDISCARD and fallocate both accept ranges past the end.
        if (!Disk.fits(sector, count, sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (readOnly) {
            return DiskException.failed(new DiskError.ReadOnly());
        }
        if (count == 0 || device.discardGranularity() == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long offset = sector << sectorShift;
        long length = count << sectorShift;
        if (device.kind() == Device.Kind.REGULAR_FILE) {
            return finish(transfers.punchHole(offset, length), () -> { });
        }
        return finish(threads.call(() -> {
            try {
                BlockIoctls.discard(fd, offset, length);
            } catch (ErrnoException e) {
                // The reference's rule: a device that cannot discard after all has nothing to do.
                if (e.errno() != Errnos.ENOTTY && e.errno() != Errnos.EOPNOTSUPP && e.errno() != Errnos.ENOSYS) {
                    throw e;
                }
            }
            return null;
        }), () -> { });
    }

    /** CDROM_LOCKDOOR(0) and CDROMEJECT; a device that is no CD-ROM has no medium to eject. */
    @Override
    public CompletableFuture<Void> eject() {
        if (device.kind() == Device.Kind.REGULAR_FILE) {
            return DiskException.failed(new DiskError.UnsupportedEject());
        }
        return threads.call(() -> {
            CdromIoctls.eject(fd);
            return (Void) null;
        }).exceptionallyCompose(failure -> {
            int errno = DeviceErrors.errno(failure).orElse(0);
            return CompletableFuture.failedFuture(errno == Errnos.ENOTTY || errno == Errnos.EINVAL
                    ? new DiskException(new DiskError.UnsupportedEject(), where + " is not a CD-ROM")
                    : DeviceErrors.of(failure, device.kind(), where));
        });
    }

    @Override
    public CompletableFuture<Long> waitResize(long sectorCount) {
        return size == null ? new CompletableFuture<>() : size.waitResize(sectorCount);
    }

    /** Whether the segments can go to the kernel as they are, or must be bounced. */
    private boolean usableInPlace(List<MemorySegment> segments) {
        for (MemorySegment s : segments) {
            if (!s.isNative()) {
                return false;
            }
            // O_DIRECT: every iovec's memory and length aligned to the logical block.
            if (options.direct() && ((s.address() | s.byteSize()) & (sectorSize - 1)) != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Moves {@code segments} in calls of at most {@link Transfers#MAX_SEGMENTS} iovecs, one after the other. A call
     * that moves fewer bytes than asked ends the request with {@link DiskError.IllegalBlock}.
     */
    private CompletableFuture<Void> transfer(List<MemorySegment> segments, long offset, boolean write,
            boolean dsync) {
        int take = Math.min(segments.size(), Transfers.MAX_SEGMENTS);
        List<MemorySegment> batch = segments.subList(0, take);
        long bytes = 0;
        for (MemorySegment s : batch) {
            bytes += s.byteSize();
        }
        long expected = bytes;
        CompletableFuture<Integer> call = write ? transfers.write(batch, offset, dsync)
                : transfers.read(batch, offset);
        return call.thenCompose(moved -> {
            if (moved != expected) {
                return DiskException.failed(new DiskError.IllegalBlock());
            }
            return take == segments.size() ? CompletableFuture.completedFuture(null)
                    : transfer(segments.subList(take, segments.size()), offset + expected, write, dsync);
        });
    }

    /** The request's outcome as the disk reports it: {@code counted} on success, mapped errors on failure. */
    private CompletableFuture<Void> finish(CompletableFuture<?> request, Runnable counted) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        request.whenComplete((ok, failure) -> {
            if (failure == null) {
                counted.run();
                result.complete(null);
            } else {
                result.completeExceptionally(DeviceErrors.of(failure, device.kind(), where));
            }
        });
        return result;
    }

    /**
     * Stops the resize watch, waits for every submitted request, then closes the device. Closed from a stage
     * running on the disk's ring thread, the rest happens on a thread of its own.
     */
    @Override
    public void close() {
        if (size != null) {
            size.close();
        }
        try {
            if (!threads.shutdown(30)) {
                // Closing the descriptor under a running ioctl could let it hit a reused descriptor number.
                LOG.warning(where + ": calls still running after 30 s; leaving the device open");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            transfers.close();
        } catch (IllegalStateException onRingThread) {
            Thread.ofPlatform().name("diskhost-block-close").start(() -> {
                transfers.close();
                closeDevice();
            });
            return;
        }
        closeDevice();
    }

    private void closeDevice() {
        try {
            Ioctl.close(fd);
        } catch (ErrnoException e) {
            LOG.log(Level.WARNING, where + ": close failed", e);
        }
    }

    @Override
    public void inspect(Inspector out) {
        out.value("path", options.path().toString())
                .value("device", device.describe())
                .value("engine", engine)
                .value("transfers", transfers.describe())
                .value("exclusive", options.exclusive())
                .value("device_fua", device.fua())
                .value("discard_granularity", device.discardGranularity())
                .value("nvme_namespace", device.namespaceId().isPresent() ? device.namespaceId().getAsInt() : 0)
                .value("persistent_reservations", pr.isPresent())
                .value("uevents", size == null ? "not used (fixed size)" : size.ueventState())
                .value("reads", reads.sum())
                .value("writes", writes.sum())
                .value("bytes_read", bytesRead.sum())
                .value("bytes_written", bytesWritten.sum())
                .value("bounced_requests", bounced.sum());
    }
}
