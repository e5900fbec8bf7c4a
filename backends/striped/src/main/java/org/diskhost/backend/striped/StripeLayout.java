package org.diskhost.backend.striped;

import java.util.List;
import java.util.OptionalLong;

import org.diskhost.api.Disk;

/**
 * RAID-0 geometry: {@code members} disks, chunks of {@code chunkSectors} sectors dealt round-robin, so global chunk
 * {@code c} lives on member {@code c mod members} at row {@code c / members}. A member's chunks are consecutive rows,
 * so a member holds its share of any global range as one contiguous run.
 *
 * @param members the number of member disks
 * @param chunkSectors sectors per chunk
 * @param sectorCount the striped disk's size in sectors: whole stripes
 */
record StripeLayout(int members, long chunkSectors, long sectorCount) {

    /** The reference's default chunk: 128 KiB. */
    static final long DEFAULT_CHUNK_BYTES = 128 * 1024;

    /** Thrown by {@link #of} when the members and settings do not make a striped disk. */
    static final class InvalidStripeException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final transient StripeError error;

        InvalidStripeException(StripeError error) {
            super(error.setting() + ": " + error.problem());
            this.error = error;
        }

        StripeError error() {
            return error;
        }
    }

    /**
     * Validates as the reference does, in its order: members present; chunk size a non-zero multiple of the sector
     * size (and, beyond the reference, no larger than a member, which would give an empty disk); members alike in
     * sector size, sector count and read-only flag; the sector count, when given, at most the whole stripes the
     * members hold and a (non-zero) multiple of a stripe. The sector count defaults to all whole stripes.
     *
     * @throws InvalidStripeException naming the setting at fault
     */
    static StripeLayout of(List<Disk> members, long chunkBytes, OptionalLong sectorCount) {
        if (members.isEmpty()) {
            throw new InvalidStripeException(new StripeError.NoMembers());
        }
        Disk first = members.getFirst();
        int sectorSize = first.sectorSize();
        if (chunkBytes <= 0 || chunkBytes % sectorSize != 0) {
            throw new InvalidStripeException(new StripeError.InvalidChunkSize(chunkBytes, sectorSize));
        }
        for (int i = 1; i < members.size(); i++) {
            Disk m = members.get(i);
            if (m.sectorSize() != sectorSize) {
                throw incompatible(i, "sector size", m.sectorSize(), sectorSize);
            }
            if (m.sectorCount() != first.sectorCount()) {
                throw incompatible(i, "sector count", m.sectorCount(), first.sectorCount());
            }
            if (m.isReadOnly() != first.isReadOnly()) {
                throw incompatible(i, "read-only flag", m.isReadOnly(), first.isReadOnly());
            }
        }
        long chunkSectors = chunkBytes / sectorSize;
        long memberSectors = first.sectorCount();
        if (chunkSectors > memberSectors) {
            throw new InvalidStripeException(
                    new StripeError.ChunkLargerThanMembers(chunkBytes, memberSectors * sectorSize));
        }
        long stripe = members.size() * chunkSectors;
        long total = memberSectors / chunkSectors * stripe;
        long count = sectorCount.orElse(total);
        if (Long.compareUnsigned(count, total) > 0) {
            throw new InvalidStripeException(new StripeError.SectorCountTooLarge(count, total));
        }
        if (count == 0 || count % stripe != 0) {
            throw new InvalidStripeException(new StripeError.SectorCountNotWholeStripes(count, stripe));
        }
        return new StripeLayout(members.size(), chunkSectors, count);
    }

    private static InvalidStripeException incompatible(int index, String property, Object value, Object first) {
        return new InvalidStripeException(new StripeError.MemberNotCompatible(index, property, value, first));
    }

    /** The member that holds global {@code sector}. */
    int memberOf(long sector) {
        return (int) ((sector / chunkSectors) % members);
    }

    /** Where global {@code sector} lives on its member. */
    long memberSector(long sector) {
        long chunk = sector / chunkSectors;
        return chunk / members * chunkSectors + sector % chunkSectors;
    }

    /** Sectors from global {@code sector} to the end of its chunk. */
    long toChunkEnd(long sector) {
        return chunkSectors - sector % chunkSectors;
    }

    /**
     * How many of member {@code member}'s sectors lie before global {@code sector}: the member sector where the
     * member's share of a range starting at {@code sector} begins (and, for a range's end, where it ends).
     */
    long memberSectorsBefore(int member, long sector) {
        long chunk = sector / chunkSectors;
        long row = chunk / members;
        int column = (int) (chunk % members);
        if (column == member) {
            return row * chunkSectors + sector % chunkSectors;
        }
        return (column < member ? row : row + 1) * chunkSectors;
    }
}
