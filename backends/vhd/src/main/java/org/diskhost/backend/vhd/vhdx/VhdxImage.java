package org.diskhost.backend.vhd.vhdx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.diskhost.backend.vhd.ImageFile;
import org.diskhost.format.vhd.ImageFormatException;
import org.diskhost.backend.vhd.vhdx.Bat.PayloadState;

/**
 * A VHDX image file (dynamic, fixed or differencing), in pure Java over {@link FileChannel} positional I/O.
 *
 * <p><b>Opening</b> checks the file identifier, picks the current header (valid signature and CRC-32C, highest
 * sequence number), replays a non-empty log, reads the region table (copy 1, else copy 2), the metadata and the
 * whole BAT, and checks that every allocated block lies inside the file and overlaps no other block or structure.
 * A read-only open replays the log in memory only (the file is not touched; at most 64 MiB of replayed pages); a
 * writable open replays it into the file and then clears the header's log GUID.
 *
 * <p><b>Crash consistency.</b> The specification routes metadata updates through the log; this implementation
 * instead orders its writes so that the file is consistent after a crash at any point, and leaves the log empty (so
 * every reader, qemu and libvhdi included, sees a valid file at every moment). New payload data (and, in a
 * differencing image, the sector bitmap bits of a new block) goes to space no BAT entry points at and is made
 * durable with {@code fsync}; only then is the BAT entry written to point at it. A BAT entry is 8 aligned bytes
 * inside one sector, and the rest of that sector is rewritten with values that are already durable, so as long as
 * the storage writes a sector atomically the entry is either old or new. A crash before the BAT write leaves the
 * new block unused (the space is not reclaimed); a crash after it finds the data in place. Writes into a partially
 * present block write the data, make it durable, then set the bitmap bits (a crash in between keeps showing the
 * parent there). Deallocation writes the BAT entry and makes it durable before the block may be reused. Headers are
 * updated by writing the non-current slot with the next sequence number, then {@code fsync}, so a torn header write
 * leaves the previous header current. On the first change after open the data and file write GUIDs are renewed,
 * durably, before anything else is written.
 *
 * <p><b>Block states.</b> Fully present blocks read from the file; partially present blocks (differencing only)
 * read the sectors whose bitmap bit is set. In a dynamic image the not present, undefined and unmapped states read
 * as zeros and are reported {@code ABSENT} (no parent: zeros); {@code ZERO} blocks are reported {@code ZERO}. In a
 * differencing image {@code NOT_PRESENT} blocks and unset bitmap bits are {@code ABSENT} (read the parent); zero,
 * unmapped and undefined blocks are reported {@code ZERO}: the specification allows zeros for each of them, and
 * zeros never show the parent's data where the child said it was gone.
 *
 * <p>Thread-safe: reads and writes of data run concurrently; block allocation, bitmap and BAT updates are
 * serialized, and deallocation excludes all other I/O.
 */
public final class VhdxImage implements ImageFile {
    private static final long MIB = 1 << 20;
    private static final byte[] SIGNATURE = "vhdxfile".getBytes(StandardCharsets.US_ASCII);
    /** The header section (file identifier, headers, region tables) is the first 1 MiB. */
    private static final long HEADER_SECTION = MIB;
    /** Win32 extended-length paths (absolute_win32_path, volume_path) start with this. */
    private static final String WIN32_EXTENDED_PREFIX = "\\\\?\\";

    private final ImageChannel ch;
    private final boolean readOnly;
    private final VhdxMetadata meta;
    private final RegionTable regions;
    private final Bat layout;
    private final AtomicLongArray bat;
    /** Sector bitmap blocks by chunk, loaded on first use; guarded by itself. */
    private final Map<Long, byte[]> bitmaps = new HashMap<>();
    /** Allocation, BAT and bitmap writes, and header updates. */
    private final ReentrantLock metaLock = new ReentrantLock();
    /** Shared by reads and writes, exclusive for deallocation (so a freed block is reused by no one mid-read). */
    private final ReentrantReadWriteLock ioLock = new ReentrantReadWriteLock();
    /** Blocks freed (durably) by deallocation in this session, for reuse; guarded by metaLock. */
    private final ArrayDeque<Long> freeBlocks = new ArrayDeque<>();
    private VhdxHeader header;
    private int headerSlot;
    /** The end of the last allocation: new blocks go here, 1 MiB aligned; guarded by metaLock. */
    private long nextFree;
    /** Whether the write GUIDs were renewed in this session; guarded by metaLock. */
    private boolean renewed;

    private VhdxImage(ImageChannel ch, boolean readOnly, VhdxHeader header, int headerSlot, RegionTable regions,
            VhdxMetadata meta, Bat layout, long[] entries, long nextFree) {
        this.ch = ch;
        this.readOnly = readOnly;
        this.header = header;
        this.headerSlot = headerSlot;
        this.regions = regions;
        this.meta = meta;
        this.layout = layout;
        this.bat = new AtomicLongArray(entries);
        this.nextFree = nextFree;
    }

    /** Whether the file starts with the VHDX file identifier signature {@code "vhdxfile"}. */
    public static boolean probe(FileChannel channel) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIGNATURE.length);
        while (b.hasRemaining()) {
            if (channel.read(b, b.position()) < 0) {
                return false;
            }
        }
        return Arrays.equals(b.array(), SIGNATURE);
    }

    /**
     * Opens a VHDX file. With {@code readOnly}, the file is never written (a non-empty log is replayed in memory);
     * otherwise a non-empty log is replayed into the file at once.
     *
     * @throws ImageFormatException naming the structure at fault when the file is not a valid VHDX file
     * @throws IOException when the file cannot be read (or written, for a log replay)
     */
    public static VhdxImage open(Path path, boolean readOnly) throws IOException {
        FileChannel channel = readOnly ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return open(new ImageChannel(path, channel), readOnly);
        } catch (IOException | RuntimeException | Error e) {
            channel.close();
            throw e;
        }
    }

    private static VhdxImage open(ImageChannel ch, boolean readOnly) throws IOException {
        Path path = ch.path();
        long size = ch.size();
        if (size < HEADER_SECTION) {
            throw new ImageFormatException(path + ": the file is " + size
                    + " bytes, shorter than the 1 MiB header section of a VHDX file: truncated or not VHDX");
        }
        if (!probe(ch.channel())) {
            throw new ImageFormatException(path + ": the file identifier has no \"vhdxfile\" signature");
        }
        @SuppressWarnings("unchecked")
        Decoded<VhdxHeader>[] slots = new Decoded[2];
        for (int i = 0; i < 2; i++) {
            ByteBuffer b = ByteBuffer.allocate(VhdxHeader.SIZE);
            ch.read(VhdxHeader.OFFSETS[i], b, "header " + (i + 1));
            slots[i] = VhdxHeader.parse(b.flip());
        }
        int slot = currentSlot(path, slots);
        VhdxHeader header = ((Decoded.Valid<VhdxHeader>) slots[slot]).value();
        if (header.version() != 1) {
            throw new ImageFormatException(path + ": header " + (slot + 1) + " has version " + header.version()
                    + ", not 1");
        }

        List<VhdxLog.Entry> log = VhdxLog.activeSequence(ch, header);
        if (!log.isEmpty()) {
            if (readOnly) {
                VhdxLog.replay(ch, header, log, true);
            } else {
                // The file write GUID changes before any modification, the log replay included.
                header = writeHeader(ch, slot, header.withGuids(UUID.randomUUID(), header.dataWriteGuid(),
                        header.logGuid()));
                slot = 1 - slot;
                VhdxLog.replay(ch, header, log, false);
                header = writeHeader(ch, slot, header.withGuids(header.fileWriteGuid(), header.dataWriteGuid(),
                        Guids.ZERO));
                slot = 1 - slot;
            }
        }

        RegionTable regions = readRegions(ch);
        size = ch.size();
        for (RegionTable.Region r : List.of(regions.bat(), regions.metadata())) {
            if (r.end() > size) {
                throw new ImageFormatException(path + ": the " + (r == regions.bat() ? "BAT" : "metadata")
                        + " region at offset " + r.offset() + " length " + r.length()
                        + " reaches past the end of the file (" + size + " bytes): the file is truncated");
            }
        }
        VhdxMetadata meta = VhdxMetadata.read(ch, regions.metadata().offset(), regions.metadata().length());
        Bat layout = new Bat(meta.virtualSize(), meta.blockSize(), meta.logicalSectorSize(), meta.hasParent());
        long total = layout.totalEntries();
        if (total * 8 > regions.bat().length()) {
            throw new ImageFormatException(path + ": the BAT region is " + regions.bat().length()
                    + " bytes, but a disk of " + meta.virtualSize() + " bytes in blocks of " + meta.blockSize()
                    + " needs " + total + " entries (" + total * 8 + " bytes)");
        }
        ByteBuffer raw = ByteBuffer.allocate((int) (total * 8)).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(regions.bat().offset(), raw, "BAT");
        long[] entries = new long[(int) total];
        raw.flip().asLongBuffer().get(entries);
        long end = checkBat(ch, header, regions, layout, entries);
        long nextFree = (Math.max(end, size) + MIB - 1) / MIB * MIB;
        return new VhdxImage(ch, readOnly, header, slot, regions, meta, layout, entries, nextFree);
    }

    private static int currentSlot(Path path, Decoded<VhdxHeader>[] slots) throws ImageFormatException {
        if (slots[0] instanceof Decoded.Valid<VhdxHeader>(VhdxHeader h0)) {
            if (slots[1] instanceof Decoded.Valid<VhdxHeader>(VhdxHeader h1)) {
                return Long.compareUnsigned(h1.sequenceNumber(), h0.sequenceNumber()) > 0 ? 1 : 0;
            }
            return 0;
        }
        if (slots[1] instanceof Decoded.Valid) {
            return 1;
        }
        throw new ImageFormatException(path + ": no valid header: header 1 (offset 64 KiB): "
                + ((Decoded.Invalid<VhdxHeader>) slots[0]).reason() + "; header 2 (offset 128 KiB): "
                + ((Decoded.Invalid<VhdxHeader>) slots[1]).reason());
    }

    private static RegionTable readRegions(ImageChannel ch) throws IOException {
        String[] reasons = new String[2];
        for (int i = 0; i < 2; i++) {
            ByteBuffer b = ByteBuffer.allocate(RegionTable.SIZE);
            ch.read(RegionTable.OFFSETS[i], b, "region table " + (i + 1));
            switch (RegionTable.parse(b.flip())) {
                case Decoded.Valid<RegionTable>(RegionTable table) -> {
                    return table;
                }
                case Decoded.Invalid<RegionTable>(String reason) -> reasons[i] = reason;
            }
        }
        throw new ImageFormatException(ch.path() + ": no valid region table: region table 1 (offset 192 KiB): "
                + reasons[0] + "; region table 2 (offset 256 KiB): " + reasons[1]);
    }

    /** A range of the file that one structure or block occupies, for the overlap check. */
    private record Occupied(long start, long end, String what) {
    }

    /**
     * Checks every BAT entry: known states, allocated blocks inside the file, no overlaps between blocks and the
     * file's structures, a present bitmap for every partially present block.
     *
     * @return the end of the last allocated block
     */
    private static long checkBat(ImageChannel ch, VhdxHeader header, RegionTable regions, Bat layout,
            long[] entries) throws IOException {
        Path path = ch.path();
        long size = ch.size();
        List<Occupied> used = new ArrayList<>();
        used.add(new Occupied(0, HEADER_SECTION, "the header section"));
        used.add(new Occupied(regions.bat().offset(), regions.bat().end(), "the BAT region"));
        used.add(new Occupied(regions.metadata().offset(), regions.metadata().end(), "the metadata region"));
        if (header.logLength() > 0) {
            used.add(new Occupied(header.logOffset(), header.logOffset() + header.logLength(), "the log"));
        }
        long end = 0;
        for (int i = 0; i < entries.length; i++) {
            long e = entries[i];
            int code = Bat.state(e);
            boolean bitmap = layout.isBitmapIndex(i);
            long length;
            String what;
            if (bitmap) {
                if (code != Bat.SB_BLOCK_NOT_PRESENT && code != Bat.SB_BLOCK_PRESENT) {
                    throw new ImageFormatException(path + ": BAT entry " + i + " (sector bitmap) has the reserved state "
                            + code);
                }
                if (code != Bat.SB_BLOCK_PRESENT || !layout.hasParent()) {
                    continue; // dynamic images have no bitmaps; a stray one is ignored, never read
                }
                length = Bat.BITMAP_BLOCK;
                what = "the sector bitmap block of BAT entry " + i;
            } else {
                PayloadState state = PayloadState.of(code);
                if (state == null) {
                    throw new ImageFormatException(path + ": BAT entry " + i + " has the reserved state " + code);
                }
                if (state == PayloadState.PARTIALLY_PRESENT) {
                    if (!layout.hasParent()) {
                        throw new ImageFormatException(path + ": BAT entry " + i
                                + " is partially present, which only a differencing image may be");
                    }
                    long chunk = i / (layout.chunkRatio() + 1);
                    if (Bat.state(entries[layout.bitmapIndex(chunk)]) != Bat.SB_BLOCK_PRESENT) {
                        throw new ImageFormatException(path + ": BAT entry " + i
                                + " is partially present, but its chunk's sector bitmap block is not present");
                    }
                }
                if (!state.allocated()) {
                    continue;
                }
                length = layout.blockSize();
                what = "the payload block of BAT entry " + i;
            }
            long offset = Bat.fileOffset(e);
            if (offset < HEADER_SECTION || offset > size - length) {
                throw new ImageFormatException(path + ": " + what + " at file offset " + offset + " (" + length
                        + " bytes) lies " + (offset < HEADER_SECTION ? "in the header section" : "past the end of the file ("
                        + size + " bytes)"));
            }
            used.add(new Occupied(offset, offset + length, what));
            end = Math.max(end, offset + length);
        }
        used.sort(Comparator.comparingLong(Occupied::start));
        for (int i = 1; i < used.size(); i++) {
            Occupied a = used.get(i - 1);
            Occupied b = used.get(i);
            if (b.start() < a.end()) {
                throw new ImageFormatException(path + ": " + b.what() + " at file offset " + b.start() + " overlaps "
                        + a.what() + " at file offset " + a.start());
            }
        }
        if (header.logLength() > 0 && header.logOffset() <= VhdxLog.MAX_FILE_OFFSET) {
            end = Math.max(end, header.logOffset() + header.logLength()); // never allocate over the log
        }
        return Math.max(end, Math.max(regions.bat().end(), regions.metadata().end()));
    }

    /** Writes {@code next} (with the next sequence number) into the slot other than {@code current}, durably. */
    private static VhdxHeader writeHeader(ImageChannel ch, int current, VhdxHeader next) throws IOException {
        VhdxHeader h = next.withSequence(next.sequenceNumber() + 1);
        ch.write(VhdxHeader.OFFSETS[1 - current], h.encode());
        ch.force();
        return h;
    }

    // ------------------------------------------------------------------ creation

    /**
     * Creates a dynamic VHDX file (which must not exist) and opens it writable. Layout: the header section, a 1 MiB
     * log at 1 MiB (empty), the metadata region at 2 MiB, the BAT from 3 MiB; every block not present. (A
     * differencing image also gets every chunk's sector bitmap block, zero, after the BAT.)
     *
     * @throws java.nio.file.FileAlreadyExistsException when {@code path} exists
     */
    public static VhdxImage createDynamic(Path path, VhdxCreateOptions options) throws IOException {
        create(path, new VhdxMetadata(options.blockSize(), false, false, options.virtualSize(), UUID.randomUUID(),
                options.logicalSectorSize(), options.physicalSectorSize(), Optional.empty()));
        return open(path, false);
    }

    /**
     * Creates a differencing VHDX file {@code child} (which must not exist) over the VHDX file {@code parent} and opens
     * it writable. The child takes the parent's virtual size and sector sizes; of {@code options} only the block
     * size is used. Like every fork it copies the parent's virtual disk id. Its parent locator holds
     * {@code parent_linkage} (the parent's data write GUID), a {@code relative_path} (from the child's directory,
     * with backslashes) and an {@code absolute_win32_path} (the parent's absolute path with backslashes, after the
     * {@code \\?\} prefix the specification requires).
     *
     * @throws java.nio.file.FileAlreadyExistsException when {@code child} exists
     * @throws ImageFormatException when the parent is not a valid VHDX file
     */
    public static VhdxImage createDifferencing(Path child, Path parent, VhdxCreateOptions options)
            throws IOException {
        Path absoluteParent = parent.toAbsolutePath().normalize();
        Path childDir = child.toAbsolutePath().normalize().getParent();
        UUID linkage;
        VhdxMetadata parentMeta;
        try (VhdxImage p = open(absoluteParent, true)) {
            linkage = p.linkageId();
            parentMeta = p.meta;
        }
        String relative = childDir.relativize(absoluteParent).toString().replace('/', '\\');
        if (!relative.startsWith("..")) {
            relative = ".\\" + relative;
        }
        Map<String, String> locator = new LinkedHashMap<>();
        locator.put("parent_linkage", "{" + linkage + "}");
        locator.put("relative_path", relative);
        locator.put("absolute_win32_path", WIN32_EXTENDED_PREFIX + absoluteParent.toString().replace('/', '\\'));
        // Forking copies the virtual disk items (size, sector sizes, disk id): the child is the same disk.
        create(child, new VhdxMetadata(options.blockSize(), false, true, parentMeta.virtualSize(),
                parentMeta.diskId(), parentMeta.logicalSectorSize(), parentMeta.physicalSectorSize(),
                Optional.of(new ParentLocator(locator))));
        return open(child, false);
    }

    private static void create(Path path, VhdxMetadata meta) throws IOException {
        Bat layout = new Bat(meta.virtualSize(), meta.blockSize(), meta.logicalSectorSize(), meta.hasParent());
        long logOffset = MIB;
        long metadataOffset = 2 * MIB;
        long batOffset = 3 * MIB;
        long batLength = (layout.totalEntries() * 8 + MIB - 1) / MIB * MIB;
        RegionTable regions = new RegionTable(new RegionTable.Region(batOffset, batLength),
                new RegionTable.Region(metadataOffset, MIB));
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ImageChannel ch = new ImageChannel(path, channel);
            ByteBuffer id = ByteBuffer.allocate(8 + 512);
            id.put(SIGNATURE).put("diskhost".getBytes(StandardCharsets.UTF_16LE));
            ch.write(0, id.clear());
            UUID fileWrite = UUID.randomUUID();
            UUID dataWrite = UUID.randomUUID();
            for (int i = 0; i < 2; i++) {
                ch.write(VhdxHeader.OFFSETS[i], new VhdxHeader(i, fileWrite, dataWrite, Guids.ZERO, 0, 1, MIB,
                        logOffset).encode());
                ch.write(RegionTable.OFFSETS[i], regions.encode());
            }
            ch.write(metadataOffset, meta.encode((int) MIB));
            // Zero BAT entries are NOT_PRESENT blocks; extending the file provides them.
            long end = batOffset + batLength;
            ch.write(end - 1, ByteBuffer.allocate(1));
            if (meta.hasParent()) {
                // Every chunk gets its (all-zero, sparse) sector bitmap block now. The specification needs them
                // only for partially present blocks, but libvhdi consults the bitmap of not-present blocks too,
                // and would read garbage where no bitmap block exists.
                ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                for (long chunk = 0; chunk < layout.bitmapBlocks(); chunk++) {
                    entry.clear().putLong(0, Bat.entry(Bat.SB_BLOCK_PRESENT, end));
                    ch.write(batOffset + 8L * layout.bitmapIndex(chunk), entry);
                    end += Bat.BITMAP_BLOCK;
                }
                ch.write(end - 1, ByteBuffer.allocate(1));
            }
            ch.force();
        }
    }

    // ------------------------------------------------------------------ ImageFile

    @Override
    public String format() {
        return "vhdx";
    }

    @Override
    public long virtualSize() {
        return meta.virtualSize();
    }

    @Override
    public int logicalSectorSize() {
        return meta.logicalSectorSize();
    }

    @Override
    public int physicalSectorSize() {
        return meta.physicalSectorSize();
    }

    /** The page 83 data (virtual disk id). */
    @Override
    public UUID diskId() {
        return meta.diskId();
    }

    /** The current header's data write GUID, which a differencing child records as {@code parent_linkage}. */
    @Override
    public UUID linkageId() {
        metaLock.lock();
        try {
            return header.dataWriteGuid();
        } finally {
            metaLock.unlock();
        }
    }

    /**
     * The parent of a differencing image. Candidate paths, in the specification's order: {@code relative_path}
     * resolved against this file's directory, then {@code volume_path} and {@code absolute_win32_path} when they are
     * usable here: after the {@code \\?\} prefix, a path that starts with a backslash (drive letters, UNC shares and
     * volume GUIDs are not). Backslashes become slashes. The linkage id is {@code parent_linkage}.
     */
    @Override
    public Optional<ParentReference> parent() {
        return meta.parentLocator().map(locator -> new ParentReference(
                candidatePaths(ch.path().toAbsolutePath().getParent(), locator),
                locator.linkage(ch.path().toString())));
    }

    /** The usable paths of {@code locator} in the order {@link #parent()} gives, for a child in {@code dir}. */
    static List<String> candidatePaths(Path dir, ParentLocator locator) {
        List<String> candidates = new ArrayList<>();
        locator.get("relative_path").map(p -> p.replace('\\', '/')).filter(p -> !p.isEmpty())
                .ifPresent(p -> candidates.add(dir.resolve(p).normalize().toString()));
        for (String key : List.of("volume_path", "absolute_win32_path")) {
            locator.get(key).map(p -> p.startsWith(WIN32_EXTENDED_PREFIX) ? p.substring(WIN32_EXTENDED_PREFIX.length())
                    : p).map(p -> p.replace('\\', '/')).filter(p -> p.startsWith("/") && !p.startsWith("//"))
                    .map(p -> Path.of(p).normalize().toString()).filter(p -> !candidates.contains(p))
                    .ifPresent(candidates::add);
        }
        return List.copyOf(candidates);
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    /** The payload block size in bytes. */
    public int blockSize() {
        return meta.blockSize();
    }

    @Override
    public Extent extentAt(long offset, long maxLength) throws IOException {
        checkExtentQuery(offset, maxLength);
        long limit = Math.min(offset + maxLength, meta.virtualSize());
        ioLock.readLock().lock();
        try {
            Run first = runAt(offset, limit);
            long pos = offset + first.length();
            while (pos < limit) {
                Run next = runAt(pos, limit);
                if (next.state() != first.state()) {
                    break;
                }
                pos += next.length();
            }
            return new Extent(pos - offset, first.state());
        } finally {
            ioLock.readLock().unlock();
        }
    }

    /**
     * Reads {@code dst.remaining()} bytes at {@code offset}. Bytes that are not {@code PRESENT} read as zeros (the
     * chain disk reads the parent for {@code ABSENT} ones instead).
     */
    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        ioLock.readLock().lock();
        try {
            long pos = offset;
            long end = offset + dst.remaining();
            while (pos < end) {
                Run run = runAt(pos, end);
                int n = (int) run.length();
                ByteBuffer part = dst.slice(dst.position(), n);
                if (run.state() == Extent.State.PRESENT) {
                    ch.read(run.fileOffset(), part, "payload block of virtual offset " + pos);
                } else {
                    while (part.hasRemaining()) {
                        part.put((byte) 0);
                    }
                }
                dst.position(dst.position() + n);
                pos += n;
            }
        } finally {
            ioLock.readLock().unlock();
        }
    }

    /** One run within one block: its state, length and (when present) file offset. */
    private record Run(Extent.State state, long length, long fileOffset) {
    }

    /** The run starting at virtual {@code pos}, up to {@code limit} and the end of its block. */
    private Run runAt(long pos, long limit) throws IOException {
        long blockSize = meta.blockSize();
        long block = pos / blockSize;
        long inBlock = pos % blockSize;
        long length = Math.min(blockSize - inBlock, limit - pos);
        long entry = bat.get(layout.payloadIndex(block));
        PayloadState state = PayloadState.of(Bat.state(entry));
        return switch (state) {
            case FULLY_PRESENT -> new Run(Extent.State.PRESENT, length, Bat.fileOffset(entry) + inBlock);
            case PARTIALLY_PRESENT -> partialRun(block, inBlock, length, Bat.fileOffset(entry));
            case NOT_PRESENT -> new Run(Extent.State.ABSENT, length, -1);
            case ZERO -> new Run(Extent.State.ZERO, length, -1);
            case UNDEFINED, UNMAPPED -> new Run(meta.hasParent() ? Extent.State.ZERO : Extent.State.ABSENT, length, -1);
        };
    }

    private Run partialRun(long block, long inBlock, long length, long blockOffset) throws IOException {
        int sectorSize = meta.logicalSectorSize();
        long chunk = block / layout.chunkRatio();
        long firstBit = (block % layout.chunkRatio()) * layout.sectorsPerBlock() + inBlock / sectorSize;
        long bits = length / sectorSize;
        synchronized (bitmaps) {
            byte[] bitmap = bitmap(chunk);
            boolean present = bit(bitmap, firstBit);
            long n = 1;
            while (n < bits && bit(bitmap, firstBit + n) == present) {
                n++;
            }
            return new Run(present ? Extent.State.PRESENT : Extent.State.ABSENT, n * sectorSize,
                    blockOffset + inBlock);
        }
    }

    private static boolean bit(byte[] bitmap, long index) {
        return (bitmap[(int) (index >>> 3)] & (1 << (index & 7))) != 0;
    }

    /** The sector bitmap of {@code chunk}, read on first use; callers hold {@code bitmaps}' monitor. */
    private byte[] bitmap(long chunk) throws IOException {
        byte[] bitmap = bitmaps.get(chunk);
        if (bitmap == null) {
            bitmap = new byte[Bat.BITMAP_BLOCK];
            long entry = bat.get(layout.bitmapIndex(chunk));
            if (Bat.state(entry) == Bat.SB_BLOCK_PRESENT) {
                ch.read(Bat.fileOffset(entry), ByteBuffer.wrap(bitmap), "sector bitmap block of chunk " + chunk);
            }
            bitmaps.put(chunk, bitmap);
        }
        return bitmap;
    }

    // ------------------------------------------------------------------ writing

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        checkRange(offset, src.remaining());
        ioLock.readLock().lock();
        try {
            renewWriteGuids();
            long pos = offset;
            long blockSize = meta.blockSize();
            while (src.hasRemaining()) {
                long inBlock = pos % blockSize;
                int n = (int) Math.min(blockSize - inBlock, src.remaining());
                ByteBuffer part = src.slice(src.position(), n);
                writeInBlock(pos / blockSize, inBlock, part);
                src.position(src.position() + n);
                pos += n;
            }
        } finally {
            ioLock.readLock().unlock();
        }
    }

    private void writeInBlock(long block, long inBlock, ByteBuffer data) throws IOException {
        int index = layout.payloadIndex(block);
        while (true) {
            long entry = bat.get(index);
            switch (PayloadState.of(Bat.state(entry))) {
                case FULLY_PRESENT -> {
                    ch.write(Bat.fileOffset(entry) + inBlock, data);
                    return;
                }
                case PARTIALLY_PRESENT -> {
                    writePartial(block, inBlock, data, Bat.fileOffset(entry));
                    return;
                }
                default -> {
                    if (allocate(block, inBlock, data)) {
                        return;
                    }
                    // another writer allocated the block meanwhile: write into it
                }
            }
        }
    }

    /** Writes into a partially present block: the data first, durably, then the bits that make it visible. */
    private void writePartial(long block, long inBlock, ByteBuffer data, long blockOffset) throws IOException {
        int n = data.remaining();
        ch.write(blockOffset + inBlock, data);
        ch.force();
        metaLock.lock();
        try {
            setBits(block, inBlock, n, false);
        } finally {
            metaLock.unlock();
        }
    }

    /**
     * Gives {@code block} space and writes {@code data} into it. The BAT entry is written only after the data (and
     * the zeros around it, in a reused block) is durable.
     *
     * @return false, writing nothing, when the block was allocated by another writer meanwhile
     */
    private boolean allocate(long block, long inBlock, ByteBuffer data) throws IOException {
        metaLock.lock();
        try {
            int index = layout.payloadIndex(block);
            long entry = bat.get(index);
            PayloadState state = PayloadState.of(Bat.state(entry));
            if (state.allocated()) {
                return false;
            }
            long blockSize = meta.blockSize();
            int n = data.remaining();
            // In a differencing image, a block that shows the parent keeps showing it around the new sectors.
            boolean partial = meta.hasParent() && state == PayloadState.NOT_PRESENT && n < blockSize;
            Long reused = freeBlocks.poll();
            long offset;
            if (reused != null) {
                offset = reused;
                if (!partial) {
                    ch.writeZeros(offset, inBlock);
                    ch.writeZeros(offset + inBlock + n, blockSize - inBlock - n);
                }
            } else {
                offset = nextFree;
                nextFree += blockSize;
                // Extend the file over the whole block first: the BAT check on open wants every block inside it.
                ch.write(offset + blockSize - 1, ByteBuffer.allocate(1));
            }
            ch.write(offset + inBlock, data);
            if (partial) {
                long chunk = block / layout.chunkRatio();
                int sbIndex = layout.bitmapIndex(chunk);
                boolean newBitmap = Bat.state(bat.get(sbIndex)) != Bat.SB_BLOCK_PRESENT;
                long bitmapOffset = 0;
                if (newBitmap) {
                    bitmapOffset = nextFree;
                    nextFree += MIB;
                    ch.write(bitmapOffset + MIB - 1, ByteBuffer.allocate(1));
                    synchronized (bitmaps) {
                        bitmaps.put(chunk, new byte[Bat.BITMAP_BLOCK]);
                    }
                    // The bitmap block must be durable and pointed at before any payload entry relies on it.
                    ch.force();
                    writeBatEntry(sbIndex, Bat.entry(Bat.SB_BLOCK_PRESENT, bitmapOffset));
                }
                setBits(block, inBlock, n, true);
            }
            ch.force();
            writeBatEntry(index, Bat.entry(
                    (partial ? PayloadState.PARTIALLY_PRESENT : PayloadState.FULLY_PRESENT).code, offset));
            return true;
        } finally {
            metaLock.unlock();
        }
    }

    /**
     * Marks {@code length} bytes at {@code inBlock} of {@code block} present in the bitmap and writes the changed
     * bitmap bytes; with {@code wholeBlock}, the block's other bits are cleared first (a new block). Holds
     * metaLock.
     */
    private void setBits(long block, long inBlock, int length, boolean wholeBlock) throws IOException {
        int sectorSize = meta.logicalSectorSize();
        long chunk = block / layout.chunkRatio();
        long blockBits = (block % layout.chunkRatio()) * layout.sectorsPerBlock();
        long first = blockBits + inBlock / sectorSize;
        long last = first + length / sectorSize; // exclusive
        long fromByte;
        long toByte;
        byte[] copy;
        synchronized (bitmaps) {
            byte[] bitmap = bitmap(chunk);
            if (wholeBlock) {
                Arrays.fill(bitmap, (int) (blockBits >>> 3), (int) ((blockBits + layout.sectorsPerBlock() + 7) >>> 3),
                        (byte) 0);
                fromByte = blockBits >>> 3;
                toByte = (blockBits + layout.sectorsPerBlock() + 7) >>> 3;
            } else {
                fromByte = first >>> 3;
                toByte = (last + 7) >>> 3;
            }
            for (long b = first; b < last; b++) {
                bitmap[(int) (b >>> 3)] |= (byte) (1 << (b & 7));
            }
            copy = Arrays.copyOfRange(bitmap, (int) fromByte, (int) toByte);
        }
        long bitmapOffset = Bat.fileOffset(bat.get(layout.bitmapIndex(chunk)));
        ch.write(bitmapOffset + fromByte, ByteBuffer.wrap(copy));
    }

    /** Writes one BAT entry (8 aligned bytes: written whole or not at all) and publishes it. Holds metaLock. */
    private void writeBatEntry(int index, long entry) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, entry);
        ch.write(regions.bat().offset() + 8L * index, b);
        bat.set(index, entry);
    }

    /**
     * Deallocates the whole blocks inside {@code [offset, offset + length)} (the disk's last block counts as whole
     * when the range reaches the end of the disk): {@code UNMAPPED} in a dynamic image (reads zeros),
     * {@code NOT_PRESENT} in a differencing one (shows the parent). A fixed image (leave blocks allocated) keeps its
     * blocks. The new entries are durable when this returns, and freed space is reused by later allocations.
     *
     * @return the bytes of the virtual disk in the blocks deallocated
     */
    @Override
    public long deallocate(long offset, long length) throws IOException {
        checkWritable();
        checkRange(offset, length);
        if (meta.leaveBlocksAllocated() && !meta.hasParent()) {
            return 0;
        }
        long blockSize = meta.blockSize();
        long end = offset + length;
        long firstBlock = (offset + blockSize - 1) / blockSize;
        long endBlock = end >= meta.virtualSize() ? layout.dataBlocks() : end / blockSize;
        if (firstBlock >= endBlock) {
            return 0;
        }
        PayloadState target = meta.hasParent() ? PayloadState.NOT_PRESENT : PayloadState.UNMAPPED;
        ioLock.writeLock().lock();
        try {
            metaLock.lock();
            try {
                renewWriteGuids();
                List<Long> freed = new ArrayList<>();
                for (long b = firstBlock; b < endBlock; b++) {
                    int index = layout.payloadIndex(b);
                    long entry = bat.get(index);
                    if (Bat.state(entry) == target.code) {
                        continue;
                    }
                    if (PayloadState.of(Bat.state(entry)).allocated()) {
                        freed.add(Bat.fileOffset(entry));
                    }
                    writeBatEntry(index, Bat.entry(target.code, 0));
                    if (meta.hasParent() && Bat.state(bat.get(layout.bitmapIndex(b / layout.chunkRatio())))
                            == Bat.SB_BLOCK_PRESENT) {
                        // Not needed by the specification (a not-present block shows the parent whatever its
                        // bits), but libvhdi reads the bits of not-present blocks, and a later partial allocation
                        // starts from a clean slate anyway.
                        setBits(b, 0, 0, true);
                    }
                }
                // Durable before reuse: a crash must never find an old entry pointing at reused space.
                ch.force();
                freeBlocks.addAll(freed);
            } finally {
                metaLock.unlock();
            }
        } finally {
            ioLock.writeLock().unlock();
        }
        return Math.min(endBlock * blockSize, meta.virtualSize()) - firstBlock * blockSize;
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            ch.force();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            ch.channel().close();
        }
    }

    /**
     * Before the first change after open: new file and data write GUIDs (so a differencing child made from the old
     * content no longer links to this file), written to the other header slot and made durable.
     */
    private void renewWriteGuids() throws IOException {
        metaLock.lock();
        try {
            if (!renewed) {
                header = writeHeader(ch, headerSlot, header.withGuids(UUID.randomUUID(), UUID.randomUUID(),
                        Guids.ZERO));
                headerSlot = 1 - headerSlot;
                renewed = true;
            }
        } finally {
            metaLock.unlock();
        }
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new IOException(ch.path() + ": the image is open read-only");
        }
    }

    /**
     * Checks that {@code [offset, offset + length)} is whole sectors inside the disk (it may be empty).
     *
     * @throws IllegalArgumentException when it is not
     */
    private void checkRange(long offset, long length) {
        int s = meta.logicalSectorSize();
        long size = meta.virtualSize();
        if (offset < 0 || length < 0 || offset % s != 0 || length % s != 0 || offset > size
                || length > size - offset) {
            throw new IllegalArgumentException(ch.path() + ": range at " + offset + " length " + length
                    + " is not whole " + s + "-byte sectors inside the disk (" + size + " bytes)");
        }
    }

    /**
     * Checks that {@code offset} is a sector inside the disk and {@code maxLength} a positive number of sectors.
     *
     * @throws IllegalArgumentException when they are not
     */
    private void checkExtentQuery(long offset, long maxLength) {
        int s = meta.logicalSectorSize();
        if (offset < 0 || offset >= meta.virtualSize() || offset % s != 0 || maxLength <= 0 || maxLength % s != 0) {
            throw new IllegalArgumentException(ch.path() + ": extent query at " + offset + " for " + maxLength
                    + " bytes is not a sector inside the disk (" + meta.virtualSize() + " bytes) and a positive "
                    + "number of " + s + "-byte sectors");
        }
    }

    /** The file's path: what inspect output and messages show for the image. */
    @Override
    public String toString() {
        return ch.path().toString();
    }
}
