package org.diskhost.backend.vhd.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.diskhost.format.vhd.ImageFormatException;

/**
 * The VHDX metadata log: finding its active sequence and replaying it.
 *
 * <p>The log is a circular buffer of 4 KiB sectors. An entry is a header sector (with the first descriptors), more
 * descriptor sectors when needed, then one data sector per data descriptor; its CRC-32C covers the whole entry. A
 * sequence is a run of valid entries, each directly after the previous one with the next sequence number, whose
 * last entry (the head) names, as its tail, an entry of the run. The active sequence is the valid one with the
 * newest head; replay applies its entries from the tail to the head. Entries outside it (stale, or torn by a crash
 * during a log write) are ignored; a log GUID with no valid sequence at all means a corrupt file.
 */
final class VhdxLog {
    /** The largest log this implementation reads (into memory) to replay. */
    static final long MAX_LOG_LENGTH = 64L << 20;
    /** The most 4 KiB pages a replay into memory (read-only open) may keep. */
    static final int MAX_OVERLAY_PAGES = 16384;
    /** No replayed write may reach beyond this file offset. */
    static final long MAX_FILE_OFFSET = 1L << 47;

    private static final int SECTOR = 4096;
    private static final int ENTRY_SIGNATURE = 0x65676f6c; // "loge"
    private static final int ZERO_SIGNATURE = 0x6f72657a; // "zero"
    private static final int DATA_DESC_SIGNATURE = 0x63736564; // "desc"
    private static final int DATA_SIGNATURE = 0x61746164; // "data"
    private static final byte[] ZERO_PAGE = new byte[SECTOR];

    private VhdxLog() {
    }

    /** One replay operation. */
    sealed interface Descriptor {
        /** Write {@code page} (4 KiB) at {@code fileOffset}. */
        record Data(long fileOffset, byte[] page) implements Descriptor {
        }

        /** Write {@code length} zero bytes at {@code fileOffset}. */
        record Zero(long fileOffset, long length) implements Descriptor {
        }
    }

    /**
     * A valid log entry.
     *
     * @param offset where it starts in the log
     * @param length its length in bytes
     * @param sequence its sequence number
     * @param tail where its sequence starts in the log
     * @param flushedFileOffset the file was at least this long when the entry was written
     * @param lastFileOffset the file is at least this long after the entry is applied
     * @param descriptors the operations, in order
     */
    record Entry(int offset, int length, long sequence, int tail, long flushedFileOffset, long lastFileOffset,
            List<Descriptor> descriptors) {
    }

    /**
     * The entries to replay, tail first: the active sequence. Empty when the header's log GUID is zero (an empty log).
     *
     * @throws ImageFormatException when the log region is misplaced, or the log GUID is set but the log holds no
     *     valid and complete sequence (the message says why its first entry is unusable, e.g. a bad checksum)
     */
    static List<Entry> activeSequence(ImageChannel ch, VhdxHeader header) throws IOException {
        if (Guids.isZero(header.logGuid())) {
            return List.of();
        }
        String where = ch.path() + ": log at offset " + header.logOffset();
        long length = header.logLength();
        if (header.logVersion() != 0) {
            throw new ImageFormatException(where + ": log version " + header.logVersion() + " is not 0");
        }
        if (header.logOffset() < VhdxMetadata.MIB || header.logOffset() % VhdxMetadata.MIB != 0 || length == 0
                || length % VhdxMetadata.MIB != 0) {
            throw new ImageFormatException(where + " length " + length
                    + ": offset and length must be non-zero multiples of 1 MiB");
        }
        if (length > MAX_LOG_LENGTH) {
            throw new ImageFormatException(where + ": the log is " + length + " bytes, more than the "
                    + MAX_LOG_LENGTH + " this implementation replays");
        }
        ByteBuffer log = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(header.logOffset(), log, "log");
        Map<Integer, Decoded<Entry>> parsed = new HashMap<>();
        // The search of [MS-VHDX] 2.3.3: from each candidate tail, extend a sequence as far as valid entries with
        // consecutive sequence numbers go; it is valid when its head's tail lies inside it. The newest valid one
        // wins. A valid sequence is skipped as a whole, anything else one sector at a time.
        List<Entry> candidate = List.of();
        int tail = 0;
        int oldTail = 0;
        while (true) {
            List<Entry> sequence = new ArrayList<>();
            int head = tail;
            long covered = 0;
            while (parse(log, head, header.logGuid(), parsed) instanceof Decoded.Valid<Entry>(Entry e)
                    && (sequence.isEmpty() || e.sequence() == sequence.getLast().sequence() + 1)
                    && covered + e.length() <= length) {
                sequence.add(e);
                covered += e.length();
                head = (int) ((head + (long) e.length()) % length);
            }
            int from = sequence.isEmpty() ? -1 : indexOf(sequence, sequence.getLast().tail());
            if (from >= 0 && (candidate.isEmpty()
                    || sequence.getLast().sequence() > candidate.getLast().sequence())) {
                candidate = List.copyOf(sequence.subList(from, sequence.size()));
            }
            tail = from < 0 ? (int) ((tail + (long) SECTOR) % length) : head;
            if (tail <= oldTail) {
                break;
            }
            oldTail = tail;
        }
        if (candidate.isEmpty()) {
            throw new ImageFormatException(where + ": the header's log GUID says the log must be replayed, but it "
                    + "holds no valid and complete sequence of entries" + firstFault(log, header.logGuid(), parsed));
        }
        return candidate;
    }

    private static int indexOf(List<Entry> sequence, int offset) {
        for (int i = 0; i < sequence.size(); i++) {
            if (sequence.get(i).offset() == offset) {
                return i;
            }
        }
        return -1;
    }

    /** Why the first entry of this log that carries the log GUID is unusable, for the error message. */
    private static String firstFault(ByteBuffer log, UUID logGuid, Map<Integer, Decoded<Entry>> parsed) {
        for (int at = 0; at < log.capacity(); at += SECTOR) {
            if (log.getInt(at) == ENTRY_SIGNATURE && Guids.read(log, at + 32).equals(logGuid)
                    && parse(log, at, logGuid, parsed) instanceof Decoded.Invalid<Entry>(String reason)) {
                return "; the entry at log offset " + at + " is unusable: " + reason;
            }
        }
        return "; no entry carries that log GUID";
    }

    private static Decoded<Entry> parse(ByteBuffer log, int at, UUID logGuid, Map<Integer, Decoded<Entry>> memo) {
        return memo.computeIfAbsent(at, a -> parse(log, a, logGuid));
    }

    /** Reads the entry at log offset {@code at}, wrapping around the end of the log. */
    private static Decoded<Entry> parse(ByteBuffer log, int at, UUID logGuid) {
        int logLength = log.capacity();
        ByteBuffer first = sector(log, at);
        if (first.getInt(0) != ENTRY_SIGNATURE) {
            return new Decoded.Invalid<>("no \"loge\" signature");
        }
        long entryLength = Integer.toUnsignedLong(first.getInt(8));
        int tail = first.getInt(12);
        long sequence = first.getLong(16);
        long descriptorCount = Integer.toUnsignedLong(first.getInt(24));
        if (!Guids.read(first, 32).equals(logGuid)) {
            return new Decoded.Invalid<>("its log GUID is not the header's");
        }
        if (entryLength == 0 || entryLength % SECTOR != 0 || entryLength > logLength) {
            return new Decoded.Invalid<>("entry length " + entryLength + " is not a multiple of 4 KiB within the log");
        }
        if (sequence == 0) {
            return new Decoded.Invalid<>("sequence number 0");
        }
        long descriptorSectors = (descriptorCount + 2 + 127) / 128;
        if (descriptorSectors * SECTOR > entryLength) {
            return new Decoded.Invalid<>(descriptorCount + " descriptors do not fit the entry length " + entryLength);
        }
        int sectors = (int) (entryLength / SECTOR);
        ByteBuffer entry = ByteBuffer.allocate((int) entryLength).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < sectors; i++) {
            entry.put(i * SECTOR, sector(log, (int) ((at + (long) i * SECTOR) % logLength)), 0, SECTOR);
        }
        int stored = entry.getInt(4);
        int computed = Crc32c.of(entry, 0, (int) entryLength, 4);
        if (stored != computed) {
            return new Decoded.Invalid<>(String.format("checksum mismatch (stored %08x, computed %08x)", stored,
                    computed));
        }
        List<Descriptor> descriptors = new ArrayList<>();
        int dataSector = (int) descriptorSectors;
        for (int i = 0; i < descriptorCount; i++) {
            int d = 64 + 32 * i;
            int signature = entry.getInt(d);
            long fileOffset = entry.getLong(d + 16);
            if (entry.getLong(d + 24) != sequence) {
                return new Decoded.Invalid<>("descriptor " + i + " has another sequence number than its entry");
            }
            if (fileOffset % SECTOR != 0 || fileOffset < 0) {
                return new Decoded.Invalid<>("descriptor " + i + " targets file offset " + fileOffset
                        + ", not a multiple of 4 KiB");
            }
            if (signature == ZERO_SIGNATURE) {
                long zeroLength = entry.getLong(d + 8);
                if (zeroLength <= 0 || zeroLength % SECTOR != 0) {
                    return new Decoded.Invalid<>("zero descriptor " + i + " has length " + zeroLength);
                }
                descriptors.add(new Descriptor.Zero(fileOffset, zeroLength));
            } else if (signature == DATA_DESC_SIGNATURE) {
                if (dataSector >= sectors) {
                    return new Decoded.Invalid<>("data descriptor " + i + " has no data sector in the entry");
                }
                int ds = dataSector++ * SECTOR;
                long dataSequence = (Integer.toUnsignedLong(entry.getInt(ds + 4)) << 32)
                        | Integer.toUnsignedLong(entry.getInt(ds + SECTOR - 4));
                if (entry.getInt(ds) != DATA_SIGNATURE || dataSequence != sequence) {
                    return new Decoded.Invalid<>("the data sector of descriptor " + i
                            + " lacks its signature or sequence number");
                }
                byte[] page = new byte[SECTOR];
                entry.get(d + 8, page, 0, 8); // leading bytes, kept in the descriptor
                entry.get(ds + 8, page, 8, SECTOR - 12);
                entry.get(d + 4, page, SECTOR - 4, 4); // trailing bytes
                descriptors.add(new Descriptor.Data(fileOffset, page));
            } else {
                return new Decoded.Invalid<>("descriptor " + i + " has an unknown signature");
            }
        }
        return new Decoded.Valid<>(new Entry(at, (int) entryLength, sequence, tail, first.getLong(48),
                first.getLong(56), List.copyOf(descriptors)));
    }

    private static ByteBuffer sector(ByteBuffer log, int at) {
        return log.slice(at, SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Applies {@code entries} to the file ({@code inMemory} false: written and made durable) or to {@code ch}'s
     * overlay ({@code inMemory} true: the file is untouched).
     *
     * @throws ImageFormatException when the head entry says the file was longer than it is (truncated), an entry
     *     targets the headers or the log itself, or (in memory) the replay needs more than {@link #MAX_OVERLAY_PAGES}
     *     pages
     */
    static void replay(ImageChannel ch, VhdxHeader header, List<Entry> entries, boolean inMemory)
            throws IOException {
        String where = ch.path() + ": log at offset " + header.logOffset();
        long logStart = header.logOffset();
        long logEnd = logStart + header.logLength();
        Entry head = entries.getLast();
        if (Long.compareUnsigned(head.flushedFileOffset(), ch.size()) > 0) {
            throw new ImageFormatException(where + ", entry " + head.sequence() + " says the file was at least "
                    + head.flushedFileOffset() + " bytes long, but it is " + ch.size() + ": the file is truncated");
        }
        if (Long.compareUnsigned(head.lastFileOffset(), MAX_FILE_OFFSET) > 0) {
            throw new ImageFormatException(where + ", entry " + head.sequence() + " has last file offset "
                    + head.lastFileOffset() + ", beyond " + MAX_FILE_OFFSET);
        }
        for (Entry e : entries) {
            String entry = where + ", entry " + e.sequence();
            for (Descriptor d : e.descriptors()) {
                long start = switch (d) {
                    case Descriptor.Data data -> data.fileOffset();
                    case Descriptor.Zero zero -> zero.fileOffset();
                };
                long len = switch (d) {
                    case Descriptor.Data data -> SECTOR;
                    case Descriptor.Zero zero -> zero.length();
                };
                if (start < RegionTable.OFFSETS[0] || len > MAX_FILE_OFFSET || start > MAX_FILE_OFFSET - len
                        || (start < logEnd && logStart < start + len)) {
                    throw new ImageFormatException(entry + " writes " + len + " bytes at file offset " + start
                            + ", into the headers, the log itself, or beyond " + MAX_FILE_OFFSET);
                }
                if (inMemory) {
                    overlay(ch, d, entry);
                } else {
                    switch (d) {
                        case Descriptor.Data data -> ch.write(data.fileOffset(), ByteBuffer.wrap(data.page()));
                        case Descriptor.Zero zero -> {
                            // Past the end of the file, zeros need no writing: extending the file provides them.
                            long below = Math.max(0, Math.min(zero.length(), ch.size() - zero.fileOffset()));
                            ch.writeZeros(zero.fileOffset(), below);
                        }
                    }
                }
            }
        }
        // Every structure the log knew of fits below the head's last file offset: the file is at least that long.
        if (head.lastFileOffset() > ch.size()) {
            if (inMemory) {
                ch.overlayLength(head.lastFileOffset());
            } else {
                ch.write(head.lastFileOffset() - 1, ByteBuffer.allocate(1));
            }
        }
        if (!inMemory) {
            ch.force();
        }
    }

    private static void overlay(ImageChannel ch, Descriptor d, String entry) throws IOException {
        long fileSize = ch.channel().size();
        switch (d) {
            case Descriptor.Data data -> ch.overlayPage(data.fileOffset(), data.page());
            case Descriptor.Zero zero -> {
                long end = zero.fileOffset() + zero.length();
                // Pages past the real end of the file read as zeros anyway; only drop replayed pages there.
                ch.dropOverlay(Math.max(zero.fileOffset(), fileSize), end);
                for (long p = zero.fileOffset(); p < Math.min(end, fileSize); p += SECTOR) {
                    if (ch.overlayPages() >= MAX_OVERLAY_PAGES) {
                        break;
                    }
                    ch.overlayPage(p, ZERO_PAGE);
                }
            }
        }
        if (ch.overlayPages() >= MAX_OVERLAY_PAGES) {
            throw new ImageFormatException(entry + ": replaying the log in memory (the image is opened read-only)"
                    + " needs more than " + MAX_OVERLAY_PAGES + " pages; open the image writable once to replay it");
        }
    }
}
