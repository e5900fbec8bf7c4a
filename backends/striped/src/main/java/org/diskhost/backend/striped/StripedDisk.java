package org.diskhost.backend.striped;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import org.diskhost.api.AccessError;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * Kind {@code striped}: RAID-0 over member disks as laid out by a {@link StripeLayout}. A request is split at chunk
 * boundaries into sub-requests over sub-ranges of the caller's buffers, all issued at once; the request completes
 * when all have, with the first failure in request order.
 *
 * <p>As in the reference, member failures of reads, writes and flushes are reported as {@code Io} errors naming the
 * member ("error in lower disk i"), while unmap and eject pass member errors through unchanged. The sector count is
 * fixed, so {@link #waitResize} never completes; there are no reservations and no disk id.
 */
final class StripedDisk implements DiskIo {
    private final Disk[] members;
    private final StripeLayout layout;
    private final int sectorShift;
    private final int physicalSectorSize;
    private final boolean fuaRespected;
    private final boolean readOnly;
    private final UnmapBehavior unmapBehavior;
    private final int optimalUnmapSectors;

    /** One sub-request on a member: {@code sectors} from {@code memberSector} of member {@code member}. */
    @FunctionalInterface
    private interface MemberIo {
        CompletableFuture<Void> issue(Disk member, RequestBuffers buffers, long memberSector);
    }

    /** {@code members} must satisfy {@code layout} (see {@link StripeLayout#of}). */
    StripedDisk(List<Disk> members, StripeLayout layout) {
        if (members.size() != layout.members()) {
            throw new IllegalArgumentException(members.size() + " members for a layout of " + layout.members());
        }
        this.members = members.toArray(Disk[]::new);
        this.layout = layout;
        Disk first = this.members[0];
        this.sectorShift = first.sectorShift();
        this.physicalSectorSize = members.stream().mapToInt(Disk::physicalSectorSize).max().orElseThrow();
        this.fuaRespected = members.stream().allMatch(Disk::isFuaRespected);
        this.readOnly = first.isReadOnly();
        this.unmapBehavior = combined(members);
        this.optimalUnmapSectors = members.stream().mapToInt(Disk::optimalUnmapSectors).max().orElseThrow();
    }

    /** Zeroes if every member zeroes, Ignored if every member ignores, otherwise Unspecified. */
    private static UnmapBehavior combined(List<Disk> members) {
        UnmapBehavior first = members.getFirst().unmapBehavior();
        boolean same = members.stream().allMatch(m -> m.unmapBehavior() == first);
        return same && first != UnmapBehavior.UNSPECIFIED ? first : UnmapBehavior.UNSPECIFIED;
    }

    StripeLayout layout() {
        return layout;
    }

    @Override
    public String diskType() {
        return StripedDiskResolver.KIND;
    }

    @Override
    public long sectorCount() {
        return layout.sectorCount();
    }

    @Override
    public int sectorSize() {
        return 1 << sectorShift;
    }

    @Override
    public Optional<DiskId> diskId() {
        return Optional.empty();
    }

    @Override
    public int physicalSectorSize() {
        return physicalSectorSize;
    }

    @Override
    public boolean isFuaRespected() {
        return fuaRespected;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public UnmapBehavior unmapBehavior() {
        return unmapBehavior;
    }

    @Override
    public int optimalUnmapSectors() {
        return optimalUnmapSectors;
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        // Checked here, before any member is touched: a member's MemoryAccess would be flattened to Io.
        if (!buffers.isWritable() && buffers.length() >= sectorSize()) {
            return Disk.fits(sector, buffers.length() >>> sectorShift, layout.sectorCount())
                    ? DiskException.failed(new DiskError.MemoryAccess(new AccessError.ReadOnly()))
                    : DiskException.failed(new DiskError.IllegalBlock());
        }
        return transfer(buffers, sector, Disk::readVectored);
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return transfer(buffers, sector, (member, sub, memberSector) -> member.writeVectored(sub, memberSector, fua));
    }

    /** Splits the request at chunk boundaries and issues every piece at once. */
    private CompletableFuture<Void> transfer(RequestBuffers buffers, long sector, MemberIo io) {
        long count = buffers.length() >>> sectorShift;
        if (!Disk.fits(sector, count, layout.sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        if (count == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long end = sector + count;
        long first = Math.min(count, layout.toChunkEnd(sector));
        int pieces = Math.toIntExact(1 + ceilDiv(count - first, layout.chunkSectors()));
        @SuppressWarnings("unchecked")
        CompletableFuture<Void>[] parts = new CompletableFuture[pieces];
        int[] memberOfPart = new int[pieces];
        long s = sector;
        for (int i = 0; i < pieces; i++) {
            long length = Math.min(layout.toChunkEnd(s), end - s);
            int member = layout.memberOf(s);
            RequestBuffers part = pieces == 1 ? buffers
                    : buffers.subrange((s - sector) << sectorShift, length << sectorShift);
            memberOfPart[i] = member;
            parts[i] = io.issue(members[member], part, layout.memberSector(s));
            s += length;
        }
        return allOf(parts, i -> "error in lower disk " + memberOfPart[i]);
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        @SuppressWarnings("unchecked")
        CompletableFuture<Void>[] parts = new CompletableFuture[members.length];
        for (int m = 0; m < members.length; m++) {
            parts[m] = members[m].syncCache();
        }
        return allOf(parts, m -> "error in lower disk " + m);
    }

    /** One unmap per member, of the contiguous run that holds its share of the range. */
    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        if (!Disk.fits(sector, count, layout.sectorCount())) {
            return DiskException.failed(new DiskError.IllegalBlock());
        }
        long end = sector + count;
        @SuppressWarnings("unchecked")
        CompletableFuture<Void>[] parts = new CompletableFuture[members.length];
        for (int m = 0; m < members.length; m++) {
            long from = layout.memberSectorsBefore(m, sector);
            long to = layout.memberSectorsBefore(m, end);
            parts[m] = to > from ? members[m].unmap(from, to - from, blockLevelOnly)
                    : CompletableFuture.completedFuture(null);
        }
        return allOf(parts, null);
    }

    @Override
    public CompletableFuture<Void> eject() {
        @SuppressWarnings("unchecked")
        CompletableFuture<Void>[] parts = new CompletableFuture[members.length];
        for (int m = 0; m < members.length; m++) {
            parts[m] = members[m].eject();
        }
        return allOf(parts, null);
    }

    /**
     * Completes when every part has; fails with the first failed part's error, in part order. With
     * {@code flatten}, that error becomes an {@code Io} error whose message {@code flatten} gives.
     */
    private static CompletableFuture<Void> allOf(CompletableFuture<Void>[] parts, IntFunction<String> flatten) {
        if (parts.length == 1 && flatten == null) {
            return parts[0];
        }
        return CompletableFuture.allOf(parts).handle((ok, failure) -> {
            if (failure == null) {
                return null;
            }
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].isCompletedExceptionally()) {
                    Throwable cause = parts[i].exceptionNow();
                    if (flatten == null) {
                        throw cause instanceof DiskException e ? e : new DiskException(DiskError.of(cause));
                    }
                    String what = flatten.apply(i);
                    throw new DiskException(new DiskError.Io(new IOException(what + ": " + cause.getMessage(), cause)),
                            what);
                }
            }
            throw new DiskException(DiskError.of(failure)); // not reached: allOf failed, so a part did
        });
    }

    @Override
    public void inspect(Inspector out) {
        out.value("members", members.length)
                .value("chunk_size", layout.chunkSectors() << sectorShift)
                .value("chunk_sectors", layout.chunkSectors());
        for (int m = 0; m < members.length; m++) {
            out.child("member" + m, members[m]);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
