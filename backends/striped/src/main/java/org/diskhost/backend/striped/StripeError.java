package org.diskhost.backend.striped;

/**
 * Why members and settings do not make a striped disk: the reference's constructor errors, each naming the
 * setting at fault.
 */
sealed interface StripeError {

    /** The setting at fault, such as {@code chunkSize} or {@code members[2]}. */
    String setting();

    /** What is wrong, for the message after the setting. */
    String problem();

    /** The member list is empty. */
    record NoMembers() implements StripeError {
        public String setting() {
            return StripedDiskResolver.MEMBERS;
        }

        public String problem() {
            return "must list at least one disk";
        }
    }

    /** The chunk size is zero or not a multiple of the members' sector size. */
    record InvalidChunkSize(long chunkSize, int sectorSize) implements StripeError {
        public String setting() {
            return StripedDiskResolver.CHUNK_SIZE;
        }

        public String problem() {
            return "must be a non-zero multiple of the members' sector size (" + sectorSize + " bytes), got "
                    + chunkSize;
        }
    }

    /** One chunk does not fit on a member, so no stripe would. */
    record ChunkLargerThanMembers(long chunkSize, long memberBytes) implements StripeError {
        public String setting() {
            return StripedDiskResolver.CHUNK_SIZE;
        }

        public String problem() {
            return "must be at most the size of one member (" + memberBytes + " bytes), got " + chunkSize;
        }
    }

    /** Member {@code index} differs from member 0 in sector size, sector count or read-only flag. */
    record MemberNotCompatible(int index, String property, Object value, Object first) implements StripeError {
        public String setting() {
            return StripedDiskResolver.MEMBERS + "[" + index + "]";
        }

        public String problem() {
            return "its " + property + " is " + value + ", but members[0]'s is " + first
                    + " (all members must have the same sector size, sector count and read-only flag)";
        }
    }

    /** The requested sector count exceeds what the members hold in whole stripes. */
    record SectorCountTooLarge(long requested, long total) implements StripeError {
        public String setting() {
            return StripedDiskResolver.SECTOR_COUNT;
        }

        public String problem() {
            return "must be at most " + total + " (the whole stripes the members hold), got " + requested;
        }
    }

    /** The requested sector count is not a whole number of stripes (or is zero). */
    record SectorCountNotWholeStripes(long requested, long stripeSectors) implements StripeError {
        public String setting() {
            return StripedDiskResolver.SECTOR_COUNT;
        }

        public String problem() {
            return "must be a non-zero multiple of " + stripeSectors + " (members x sectors per chunk), got "
                    + requested;
        }
    }
}
