package org.diskhost.backend.crypt;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * A decorator that encrypts the disk below it with XTS-AES-256, one data unit per logical sector, the tweak being the
 * sector number: what dm-crypt's {@code aes-xts-plain64} writes for 512-byte sectors (with {@code iv_large_sectors}
 * for 4096-byte ones). There is no authentication: a changed ciphertext decrypts to noise, undetected.
 *
 * <ul>
 * <li>Reads read the ciphertext straight into the caller's buffers and decrypt it there, so the caller may see
 * ciphertext until the read completes.</li>
 * <li>Writes never touch the caller's buffers: the ciphertext goes to a private staging buffer, which is written to
 * the disk below at the same sector with the same FUA flag.</li>
 * <li>Unmap is forwarded, but zeroed ciphertext decrypts to noise, so the behaviour is {@code UNSPECIFIED} unless
 * the disk below ignores unmaps ({@code IGNORED}).</li>
 * <li>Everything else is forwarded (size, sector sizes, identity, FUA, read-only, reservations, flush, resize waits)
 * except eject, which fails with {@code UnsupportedEject} as in the reference.</li>
 * </ul>
 * A failure of the cipher completes the request with {@code Io}.
 */
final class CryptDisk extends ForwardingDiskIo {
    private final XtsAes256 xts;
    private final int sectorShift;
    private final StagingBuffers staging = new StagingBuffers();
    private final LongAdder sectorsDecrypted = new LongAdder();
    private final LongAdder sectorsEncrypted = new LongAdder();

    /**
     * @param xts the cipher; its data unit must be the inner disk's sector size
     */
    CryptDisk(Disk inner, XtsAes256 xts) {
        super(inner);
        if (xts.unitBytes() != inner.sectorSize()) {
            throw new IllegalArgumentException("data unit " + xts.unitBytes() + " differs from the sector size "
                    + inner.sectorSize());
        }
        this.xts = xts;
        this.sectorShift = inner.sectorShift();
    }

    @Override
    public String diskType() {
        return "crypt";
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return inner.unmapBehavior() == UnmapBehavior.IGNORED ? UnmapBehavior.IGNORED : UnmapBehavior.UNSPECIFIED;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        long count = buffers.length() >>> sectorShift;
        return inner.readVectored(buffers, sector).thenRun(() -> {
            if (count == 0) {
                return;
            }
            List<MemorySegment> memory = buffers.segments(true);
            guard(() -> xts.decrypt(memory, memory, count << sectorShift, sector));
            sectorsDecrypted.add(count);
        });
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        long count = buffers.length() >>> sectorShift;
        if (count == 0) {
            return inner.writeVectored(buffers, sector, fua);
        }
        // Checked before the work of encrypting; the disk below checks again, as the size may change meanwhile.
        if (!Disk.fits(sector, count, inner.sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        long length = count << sectorShift;
        MemorySegment buffer = staging.take(length);
        MemorySegment ciphertext = buffer.asSlice(0, length);
        try {
            List<MemorySegment> plaintext = buffers.segments(false);
            guard(() -> xts.encrypt(plaintext, List.of(ciphertext), length, sector));
        } catch (DiskException e) {
            staging.give(buffer);
            return CompletableFuture.failedFuture(e);
        }
        sectorsEncrypted.add(count);
        return inner.writeVectored(RequestBuffers.of(ciphertext, false), sector, fua)
                .whenComplete((done, failure) -> staging.give(buffer));
    }

    /**
     * Everything is data: a hole below reads as zeros of ciphertext, which decrypt to noise, so the allocation of the
     * disk below says nothing about what this disk reads.
     */
    @Override
    public CompletableFuture<List<AllocationExtent>> allocation(long sector, long count) {
        if (!Disk.fits(sector, count, inner.sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        return CompletableFuture.completedFuture(
                count == 0 ? List.of() : List.of(new AllocationExtent(count, Allocation.DATA)));
    }

    /** Not forwarded, as in the reference: a crypt disk has no medium to eject. */
    @Override
    public CompletableFuture<Void> eject() {
        return DiskException.failed(new DiskError.UnsupportedEject());
    }

    /** Closes only this decorator: drops its buffers. The disk below belongs to whoever resolved it. */
    @Override
    public void close() {
        staging.clear();
    }

    /** The cipher and the traffic; never key material. */
    @Override
    public void inspect(Inspector out) {
        out.value("cipher", "xts-aes-256")
                .value("tweak", "plain64 (sector number, " + inner.sectorSize() + "-byte data units)")
                .value("sectors_encrypted", sectorsEncrypted.sum())
                .value("sectors_decrypted", sectorsDecrypted.sum());
        super.inspect(out);
    }

    @Override
    public String toString() {
        return "CryptDisk[" + xts + " over " + inner + "]";
    }

    /** Runs cipher work: a failure of the cipher becomes an {@code Io} error; memory errors pass as they are. */
    private static void guard(Runnable work) {
        try {
            work.run();
        } catch (DiskException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DiskException(new DiskError.Io(e), "xts-aes-256");
        }
    }
}
