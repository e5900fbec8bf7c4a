package org.diskhost.backend.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.diskhost.backend.vhd.DynamicHeader.ParentLocator;
import org.diskhost.backend.vhd.DynamicHeader.Platform;
import org.diskhost.format.vhd.VhdFooter.VhdType;
import org.diskhost.format.vhd.VhdFooter;
import org.diskhost.format.vhd.ImageFormatException;

/**
 * A dynamic or differencing VHD: a footer (at the end, and a copy at offset 0), the dynamic disk header, the block
 * allocation table (BAT: one big-endian 32-bit sector offset per block, {@code 0xFFFFFFFF} for a block not in the
 * file), and the blocks, each a sector bitmap (one bit per sector, most significant bit first, padded to 512 bytes)
 * followed by the block's data.
 *
 * <p>A sector is {@code PRESENT} when its block is in the file and its bitmap bit is set, else {@code ABSENT}: the
 * parent's, or zeros for a dynamic disk. New blocks are appended where the footer is, and the footer moves to the new
 * end. The order makes a crash at any point leave a consistent file: the block's data and bitmap and the moved footer
 * are written and made durable ({@code fsync}) before the BAT entry points at the block (a crash before that leaks
 * the space, never shows garbage). Bitmap bits that a write sets in a block already in the file are kept in memory
 * and written by {@link #flush()}, after the data they mark is durable.
 *
 * <p>Thread safety: transfers to blocks in the file run concurrently under a shared lock; allocating and deallocating
 * blocks take it exclusively, so a block is allocated once however many writes reach it at once, and no transfer
 * reaches a block while it is deallocated.
 */
final class DynamicVhd implements VhdFile {
    private static final int UNALLOCATED = -1;
    private static final int MAX_LOCATOR_BYTES = 64 << 10;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final VhdFooter footer;
    /** The footer as read: written again, byte for byte, wherever the end of the file moves. */
    private final byte[] footerBytes;
    private final DynamicHeader header;
    private final int blockSize;
    private final int blockShift;
    /** The bitmap's bytes in the file: one bit per sector, padded to whole sectors. */
    private final int bitmapSize;
    /** Blocks the disk's size needs; BAT entries beyond are ignored. */
    private final int blockCount;
    private final long metadataEnd;
    private final List<String> parentCandidates;
    /** Written under the write lock, read under either. */
    private final int[] bat;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** Bitmaps read or written so far, by block; each is guarded by its own monitor. */
    private final ConcurrentHashMap<Integer, byte[]> bitmaps = new ConcurrentHashMap<>();
    /** Blocks whose bitmap in memory has bits the file does not have yet. */
    private final Set<Integer> dirtyBitmaps = ConcurrentHashMap.newKeySet();
    private final Object flushLock = new Object();
    /** Where the next block goes: the end of the data, where the footer is. Guarded by the write lock. */
    private long nextFree;

    private DynamicVhd(Path path, FileChannel channel, boolean readOnly, VhdFooter footer, byte[] footerBytes,
            DynamicHeader header, int[] bat, long metadataEnd, long nextFree, List<String> parentCandidates) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.footer = footer;
        this.footerBytes = footerBytes;
        this.header = header;
        this.blockSize = header.blockSize();
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.bitmapSize = bitmapSize(blockSize);
        this.blockCount = bat.length;
        this.bat = bat;
        this.metadataEnd = metadataEnd;
        this.nextFree = nextFree;
        this.parentCandidates = parentCandidates;
    }

    static int bitmapSize(int blockSize) {
        int bytes = blockSize / 512 / 8;
        return (bytes + 511) & ~511;
    }

    // ---- opening ----

    /**
     * Opens a dynamic or differencing VHD. Checks: the footer at the end (or, when that one is damaged, as after a
     * crash while a block was added, the copy at offset 0) as {@link VhdFooter#parse} does, its type, a current size
     * that is a multiple of 512; the dynamic header ({@link DynamicHeader#parse}) inside the file; a BAT inside the
     * file with an entry for every block of the disk; and every allocated block (bitmap and data) inside the file,
     * clear of the metadata and of every other block.
     *
     * @throws ImageFormatException naming the file and what is wrong
     */
    static DynamicVhd open(Path path, boolean readOnly) throws IOException {
        FileChannel channel = Images.openChannel(path, readOnly);
        try {
            return open(path, channel, readOnly);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static DynamicVhd open(Path path, FileChannel channel, boolean readOnly) throws IOException {
        long length = channel.size();
        String where = path.toString();
        if (length < VhdFooter.SIZE + DynamicHeader.SIZE) {
            throw new ImageFormatException(where + ": " + length + " bytes are too short for a dynamic VHD (a footer "
                    + "and a 1024-byte header at least)");
        }
        byte[] footerBytes = Positional.read(channel, length - VhdFooter.SIZE, VhdFooter.SIZE, where + ": footer");
        VhdFooter footer;
        boolean footerAtEnd = true;
        try {
            footer = VhdFooter.parse(footerBytes, where);
        } catch (ImageFormatException atEnd) {
            byte[] copy = Positional.read(channel, 0, VhdFooter.SIZE, where + ": footer copy");
            VhdFooter head;
            try {
                head = VhdFooter.parse(copy, where + " (footer copy at offset 0)");
            } catch (ImageFormatException e) {
                throw atEnd;
            }
            if (head.type() == VhdType.FIXED) {
                throw atEnd;
            }
            footer = head;
            footerBytes = copy;
            footerAtEnd = false;
        }
        if (footer.type() == VhdType.FIXED) {
            throw new ImageFormatException(where + ": a fixed VHD, not a dynamic or differencing one");
        }
        long size = footer.currentSize();
        if (size <= 0 || size % 512 != 0) {
            throw new ImageFormatException(where + ": the VHD footer's current size " + Long.toUnsignedString(size)
                    + " is not a positive multiple of 512");
        }
        long dataEnd = footerAtEnd ? length - VhdFooter.SIZE : length;
        long headerOffset = footer.dataOffset();
        if (headerOffset < VhdFooter.SIZE || headerOffset > dataEnd - DynamicHeader.SIZE) {
            throw new ImageFormatException(where + ": the dynamic disk header offset " + Long.toUnsignedString(
                    headerOffset) + " is not inside the file's " + dataEnd + " bytes of data");
        }
        DynamicHeader header = DynamicHeader.parse(
                Positional.read(channel, headerOffset, DynamicHeader.SIZE, where + ": dynamic disk header"), where);
        long blocks = (size + header.blockSize() - 1) / header.blockSize();
        if (blocks > header.maxTableEntries()) {
            throw new ImageFormatException(where + ": " + header.maxTableEntries() + " BAT entries of "
                    + header.blockSize() + "-byte blocks cannot hold the disk's " + size + " bytes");
        }
        long tableOffset = header.tableOffset();
        long tableBytes = blocks * 4;
        if (tableOffset < 0 || tableOffset > dataEnd - tableBytes) {
            throw new ImageFormatException(where + ": the BAT (" + blocks + " entries at byte "
                    + Long.toUnsignedString(tableOffset) + ") is not inside the file's " + dataEnd + " bytes of data");
        }
        int[] bat = new int[(int) blocks];
        ByteBuffer table = ByteBuffer.allocate((int) tableBytes);
        Positional.readFully(channel, table, tableOffset, where + ": BAT");
        table.flip().asIntBuffer().get(bat);

        long metadataEnd = Math.max(headerOffset + DynamicHeader.SIZE, tableOffset + round512(tableBytes));
        List<String> candidates = List.of();
        if (footer.type() == VhdType.DIFFERENCING) {
            candidates = parentCandidates(path, channel, header, dataEnd);
            for (ParentLocator l : header.locators()) {
                if (!l.isEmpty() && l.dataLength() > 0) {
                    // Even a locator of a platform this reader skips reserves its space: new blocks go after it.
                    if (l.dataOffset() < 0 || l.dataOffset() > dataEnd - l.dataLength()) {
                        throw new ImageFormatException(where + ": a parent locator's data (" + l.dataLength()
                                + " bytes at byte " + Long.toUnsignedString(l.dataOffset())
                                + ") is not inside the file's " + dataEnd + " bytes of data");
                    }
                    metadataEnd = Math.max(metadataEnd, l.dataOffset() + round512(l.dataLength()));
                }
            }
        }
        int bitmapSize = bitmapSize(header.blockSize());
        long blockEnd = checkBlocks(where, bat, bitmapSize + (long) header.blockSize(), tableOffset, tableBytes,
                headerOffset, dataEnd);
        long nextFree = round512(Math.max(Math.max(metadataEnd, blockEnd), dataEnd));
        return new DynamicVhd(path, channel, readOnly, footer, footerBytes, header, bat, metadataEnd, nextFree,
                candidates);
    }

    /**
     * Checks that every allocated block lies inside the data, clear of the footer copy, the header, the BAT and the
     * other blocks; returns the end of the last one.
     */
    private static long checkBlocks(String where, int[] bat, long blockBytes, long tableOffset, long tableBytes,
            long headerOffset, long dataEnd) throws ImageFormatException {
        long[] starts = new long[bat.length];
        int allocated = 0;
        long end = 0;
        for (int i = 0; i < bat.length; i++) {
            if (bat[i] == UNALLOCATED) {
                continue;
            }
            long start = sectorOffset(bat[i]);
            if (start + blockBytes > dataEnd) {
                throw new ImageFormatException(where + ": BAT entry " + i + " points to byte " + start
                        + ", but that block ends at byte " + (start + blockBytes) + ", past the end of the file's "
                        + dataEnd + " bytes of data");
            }
            if (overlaps(start, blockBytes, 0, VhdFooter.SIZE)
                    || overlaps(start, blockBytes, headerOffset, DynamicHeader.SIZE)
                    || overlaps(start, blockBytes, tableOffset, tableBytes)) {
                throw new ImageFormatException(where + ": BAT entry " + i + " points to byte " + start
                        + ", into the image's own metadata (footer copy, header or BAT)");
            }
            starts[allocated++] = start;
            end = Math.max(end, start + blockBytes);
        }
        long[] sorted = Arrays.copyOf(starts, allocated);
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] < sorted[i - 1] + blockBytes) {
                throw new ImageFormatException(where + ": two BAT entries point to overlapping blocks, at bytes "
                        + sorted[i - 1] + " and " + sorted[i]);
            }
        }
        return end;
    }

    private static boolean overlaps(long a, long aLength, long b, long bLength) {
        return a < b + bLength && b < a + aLength;
    }

    /**
     * Where the parent may be, in the order to try: relative locators (with {@code \} as {@code /}), then absolute
     * ones, then file URLs, then the parent's name beside the child.
     */
    private static List<String> parentCandidates(Path path, FileChannel channel, DynamicHeader header, long dataEnd)
            throws IOException {
        List<String> relative = new ArrayList<>();
        List<String> absolute = new ArrayList<>();
        for (int i = 0; i < DynamicHeader.LOCATORS; i++) {
            ParentLocator l = header.locators().get(i);
            Platform platform = platform(l.platformCode());
            if (platform == null || l.dataLength() == 0) {
                continue;
            }
            if (l.dataLength() < 0 || l.dataLength() > MAX_LOCATOR_BYTES || l.dataOffset() < 0
                    || l.dataOffset() > dataEnd - l.dataLength()) {
                throw new ImageFormatException(path + ": parent locator " + i + " (" + Integer.toUnsignedString(
                        l.dataLength()) + " bytes at byte " + Long.toUnsignedString(l.dataOffset())
                        + ") is not inside the file");
            }
            byte[] data = Positional.read(channel, l.dataOffset(), l.dataLength(), path + ": parent locator " + i);
            switch (platform) {
                case RELATIVE -> relative.add(windowsRelative(new String(data, StandardCharsets.UTF_16LE)));
                case ABSOLUTE -> absolute.add(new String(data, StandardCharsets.UTF_16LE));
                case MAC_URL -> absolute.add(fileUrlPath(new String(data, StandardCharsets.UTF_8)));
            }
        }
        List<String> all = new ArrayList<>(relative);
        all.addAll(absolute);
        if (!header.parentName().isEmpty()) {
            all.add(windowsRelative(header.parentName()));
        }
        return all.stream().map(s -> s.replace("\0", "")).filter(s -> !s.isEmpty()).distinct().toList();
    }

    private static Platform platform(int code) {
        for (Platform p : Platform.values()) {
            if (p.code == code) {
                return p;
            }
        }
        return null;
    }

    /** A Windows relative path ({@code .\dir\parent.vhd}) in this system's form. */
    private static String windowsRelative(String s) {
        String slashed = s.replace('\\', '/');
        return slashed.startsWith("./") ? slashed.substring(2) : slashed;
    }

    private static String fileUrlPath(String url) {
        return url.startsWith("file://") ? url.substring("file://".length()) : url;
    }

    private static long sectorOffset(int entry) {
        return (entry & 0xFFFF_FFFFL) << 9;
    }

    private static long round512(long n) {
        return (n + 511) & ~511L;
    }

    // ---- creating ----

    /**
     * Creates a dynamic VHD of {@code size} bytes with blocks of {@code blockSize} bytes, every block absent. The file
     * must not exist. Pass a {@linkplain VhdFooter#chsRoundedSize size rounded to a CHS geometry} for readers that take
     * the size from the geometry (qemu, Virtual PC) to see all of it. Layout: footer copy, header at 512, BAT at 1536, footer.
     *
     * @throws IllegalArgumentException when the size is not a positive multiple of 512 up to 2040 GiB (the
     *         specification's limit), or the block size is not a power of two from 4 KiB to 256 MiB
     */
    static void createDynamic(Path path, long size, int blockSize) throws IOException {
        checkCreate(size, blockSize);
        VhdFooter footer = VhdFooter.create(VhdType.DYNAMIC, size, VhdFooter.SIZE);
        create(path, footer, blockSize, new UUID(0, 0), 0, "", List.of());
    }

    /** The largest VHD the specification allows. */
    static final long MAX_SIZE = 2040L << 30;

    static void checkCreate(long size, int blockSize) {
        if (size <= 0 || size % 512 != 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException("a VHD's size is a positive multiple of 512 up to 2040 GiB, got "
                    + size);
        }
        if (blockSize < DynamicHeader.MIN_BLOCK_SIZE || blockSize > DynamicHeader.MAX_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("a VHD block size is a power of two from 4 KiB to 256 MiB, got "
                    + blockSize);
        }
    }

    /**
     * Creates a differencing VHD over {@code parent}, a VHD opened from {@code parentPath}: the parent's size and
     * geometry, its block size when it has blocks (else 2 MiB), its unique id and timestamp recorded, and two
     * locators: the parent's path relative to the child's directory ({@code W2ru}, Windows separators) and its
     * absolute path ({@code W2ku}). The file must not exist.
     */
    static void createDifferencing(Path path, VhdFile parent, Path parentPath) throws IOException {
        VhdFooter p = parent.footer();
        int blockSize = parent.blockSize() > 0 ? parent.blockSize() : DynamicHeader.DEFAULT_BLOCK_SIZE;
        VhdFooter footer = VhdFooter.create(VhdType.DIFFERENCING, p.currentSize(), VhdFooter.SIZE);
        footer = new VhdFooter(footer.features(), footer.formatVersion(), footer.dataOffset(), footer.timestamp(),
                footer.creatorApplication(), footer.creatorVersion(), footer.creatorHostOs(), p.currentSize(),
                p.currentSize(), p.geometry(), VhdType.DIFFERENCING, footer.uniqueId(), 0);
        Path absoluteParent = parentPath.toAbsolutePath().normalize();
        Path childDirectory = path.toAbsolutePath().normalize().getParent();
        String relative = childDirectory.relativize(absoluteParent).toString().replace('/', '\\');
        String name = absoluteParent.getFileName().toString();
        create(path, footer, blockSize, p.uniqueId(), p.timestamp(), name.length() > 256 ? "" : name,
                List.of(new Locator(Platform.RELATIVE, (".\\" + relative).getBytes(StandardCharsets.UTF_16LE)),
                        new Locator(Platform.ABSOLUTE, absoluteParent.toString().getBytes(
                                StandardCharsets.UTF_16LE))));
    }

    private record Locator(Platform platform, byte[] data) {
    }

    private static void create(Path path, VhdFooter footer, int blockSize, UUID parentId, long parentTimestamp,
            String parentName, List<Locator> locators) throws IOException {
        long size = footer.currentSize();
        int entries = (int) ((size + blockSize - 1) / blockSize);
        long tableOffset = VhdFooter.SIZE + DynamicHeader.SIZE;
        long at = tableOffset + round512(entries * 4L);
        List<ParentLocator> entriesOut = new ArrayList<>();
        List<Long> dataAt = new ArrayList<>();
        for (Locator l : locators) {
            int space = (int) round512(l.data().length);
            entriesOut.add(new ParentLocator(l.platform().code, space, l.data().length, at));
            dataAt.add(at);
            at += space;
        }
        while (entriesOut.size() < DynamicHeader.LOCATORS) {
            entriesOut.add(ParentLocator.NONE);
        }
        DynamicHeader header = new DynamicHeader(tableOffset, entries, blockSize, parentId, parentTimestamp,
                parentName, entriesOut);
        byte[] footerBytes = footer.encode();
        try (FileChannel channel = FileChannel.open(path, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            Positional.write(channel, footerBytes, 0);
            Positional.write(channel, header.encode(), VhdFooter.SIZE);
            byte[] table = new byte[(int) round512(entries * 4L)];
            Arrays.fill(table, (byte) 0xFF);
            Positional.write(channel, table, tableOffset);
            for (int i = 0; i < locators.size(); i++) {
                Positional.write(channel, locators.get(i).data(), dataAt.get(i));
            }
            Positional.write(channel, footerBytes, at);
            channel.force(true);
        }
    }

    // ---- ImageFile ----

    @Override
    public VhdFooter footer() {
        return footer;
    }

    DynamicHeader header() {
        return header;
    }

    @Override
    public String format() {
        return footer.type() == VhdType.DIFFERENCING ? "vhd-differencing" : "vhd-dynamic";
    }

    @Override
    public Optional<ParentReference> parent() {
        return footer.type() == VhdType.DIFFERENCING
                ? Optional.of(new ParentReference(parentCandidates, header.parentUniqueId()))
                : Optional.empty();
    }

    @Override
    public boolean readOnly() {
        return readOnly;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    /** Blocks in the file now, for inspect output. */
    long allocatedBlocks() {
        lock.readLock().lock();
        try {
            return Arrays.stream(bat).filter(e -> e != UNALLOCATED).count();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Extent extentAt(long offset, long maxLength) throws IOException {
        long limit = Math.min(maxLength, virtualSize() - offset);
        int block = (int) (offset >>> blockShift);
        long inBlock = offset & (blockSize - 1);
        lock.readLock().lock();
        try {
            if (bat[block] == UNALLOCATED) {
                long run = blockSize - inBlock;
                for (int b = block + 1; run < limit && b < blockCount && bat[b] == UNALLOCATED; b++) {
                    run += blockSize;
                }
                return new Extent(Math.min(run, limit), Extent.State.ABSENT);
            }
            byte[] bitmap = bitmap(block);
            int first = (int) (inBlock >>> 9);
            int last = (int) (Math.min(blockSize, inBlock + limit) >>> 9); // exclusive
            synchronized (bitmap) {
                boolean present = bit(bitmap, first);
                int s = first + 1;
                while (s < last && bit(bitmap, s) == present) {
                    s++;
                }
                return new Extent((long) (s - first) << 9, present ? Extent.State.PRESENT : Extent.State.ABSENT);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int block = (int) (at >>> blockShift);
            int inBlock = (int) (at & (blockSize - 1));
            int n = Math.min(dst.remaining(), blockSize - inBlock);
            ByteBuffer piece = dst.slice(dst.position(), n);
            lock.readLock().lock();
            try {
                int entry = bat[block];
                if (entry == UNALLOCATED) {
                    // Deallocated since the caller's extentAt: the block reads as absent, which for data is zeros.
                    piece.put(new byte[n]);
                } else {
                    Positional.readFully(channel, piece, sectorOffset(entry) + bitmapSize + inBlock,
                            path + ": block " + block);
                }
            } finally {
                lock.readLock().unlock();
            }
            dst.position(dst.position() + n);
            at += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new IOException(path + " is open read-only");
        }
        if (offset < 0 || offset > virtualSize() - src.remaining()) {
            throw new IllegalArgumentException(path + ": bytes " + offset + " + " + src.remaining()
                    + " are outside the disk's " + virtualSize() + " bytes");
        }
        long at = offset;
        while (src.hasRemaining()) {
            int block = (int) (at >>> blockShift);
            int inBlock = (int) (at & (blockSize - 1));
            int n = Math.min(src.remaining(), blockSize - inBlock);
            writeInBlock(block, inBlock, src.slice(src.position(), n));
            src.position(src.position() + n);
            at += n;
        }
    }

    private void writeInBlock(int block, int inBlock, ByteBuffer data) throws IOException {
        lock.readLock().lock();
        try {
            if (bat[block] != UNALLOCATED) {
                writeAllocated(block, inBlock, data);
                return;
            }
        } finally {
            lock.readLock().unlock();
        }
        lock.writeLock().lock();
        try {
            if (bat[block] != UNALLOCATED) { // another write allocated it meanwhile
                writeAllocated(block, inBlock, data);
            } else {
                allocate(block, inBlock, data);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Under either lock: the block stays where it is. */
    private void writeAllocated(int block, int inBlock, ByteBuffer data) throws IOException {
        int sectors = data.remaining() >>> 9;
        Positional.writeFully(channel, data, sectorOffset(bat[block]) + bitmapSize + inBlock);
        byte[] bitmap = bitmap(block);
        synchronized (bitmap) {
            // Set only after the data is written, so a reader that sees the bit finds the data.
            if (setBits(bitmap, inBlock >>> 9, sectors)) {
                dirtyBitmaps.add(block);
            }
        }
    }

    /** Under the write lock: appends the block where the footer is, then points the BAT at it. */
    private void allocate(int block, int inBlock, ByteBuffer data) throws IOException {
        long start = nextFree;
        if ((start >>> 9) >= 0xFFFF_FFFFL) {
            throw new IOException(path + " is full: a VHD block must start in the first 2 TiB of the file");
        }
        byte[] bitmap = new byte[bitmapSize];
        setBits(bitmap, inBlock >>> 9, data.remaining() >>> 9);
        long end = start + bitmapSize + blockSize;
        // The new space past the old end reads as zeros, so a dynamic disk's unwritten sectors are zeros there.
        Positional.writeFully(channel, data, start + bitmapSize + inBlock);
        Positional.write(channel, bitmap, start); // over the old footer
        Positional.write(channel, footerBytes, end);
        channel.force(false); // the block and the moved footer are durable before the BAT points at the block
        writeBatEntry(block, (int) (start >>> 9));
        bat[block] = (int) (start >>> 9);
        bitmaps.put(block, bitmap);
        nextFree = end;
    }

    private void writeBatEntry(int block, int entry) throws IOException {
        Positional.writeFully(channel, ByteBuffer.allocate(4).putInt(0, entry), header.tableOffset() + 4L * block);
    }

    /** The block's bitmap, read from the file the first time. Under either lock. */
    private byte[] bitmap(int block) throws IOException {
        byte[] bitmap = bitmaps.get(block);
        if (bitmap != null) {
            return bitmap;
        }
        byte[] read = Positional.read(channel, sectorOffset(bat[block]), bitmapSize, path + ": bitmap of block "
                + block);
        byte[] raced = bitmaps.putIfAbsent(block, read);
        return raced != null ? raced : read;
    }

    private static boolean bit(byte[] bitmap, int sector) {
        return (bitmap[sector >>> 3] & (0x80 >>> (sector & 7))) != 0;
    }

    /** Sets bits {@code [first, first + count)}; whether any was clear. */
    private static boolean setBits(byte[] bitmap, int first, int count) {
        boolean changed = false;
        for (int s = first; s < first + count; s++) {
            int mask = 0x80 >>> (s & 7);
            if ((bitmap[s >>> 3] & mask) == 0) {
                bitmap[s >>> 3] |= (byte) mask;
                changed = true;
            }
        }
        return changed;
    }

    /**
     * Clears the BAT entries of the whole blocks in the range (the last block counts as whole when the range reaches
     * the end of the disk), durably, before their space may be reused. When blocks at the end of the file are freed,
     * the footer moves down and the file is truncated; space of other freed blocks stays in the file unused.
     */
    @Override
    public long deallocate(long offset, long length) throws IOException {
        if (readOnly) {
            throw new IOException(path + " is open read-only");
        }
        long end = offset + length;
        int first = (int) ((offset + blockSize - 1) >>> blockShift);
        int last = end >= virtualSize() ? blockCount : (int) (end >>> blockShift); // exclusive
        long freed = 0;
        lock.writeLock().lock();
        try {
            for (int b = first; b < last; b++) {
                if (bat[b] != UNALLOCATED) {
                    writeBatEntry(b, UNALLOCATED);
                    bat[b] = UNALLOCATED;
                    bitmaps.remove(b);
                    dirtyBitmaps.remove(b);
                    freed += Math.min(blockSize, virtualSize() - ((long) b << blockShift));
                }
            }
            if (freed > 0) {
                channel.force(false);
                shrink();
            }
        } finally {
            lock.writeLock().unlock();
        }
        return freed;
    }

    /** Under the write lock: moves the footer down to the end of the last block still in use, and truncates. */
    private void shrink() throws IOException {
        long end = metadataEnd;
        long blockBytes = bitmapSize + (long) blockSize;
        for (int entry : bat) {
            if (entry != UNALLOCATED) {
                end = Math.max(end, sectorOffset(entry) + blockBytes);
            }
        }
        end = round512(end);
        if (end < nextFree) {
            Positional.write(channel, footerBytes, end);
            channel.force(false); // a footer at the new end before the old one goes
            channel.truncate(end + VhdFooter.SIZE);
            nextFree = end;
        }
    }

    /**
     * Writes the bitmap bits set since the last flush, after the data they mark is durable: a snapshot of the
     * bitmaps first (their bits were set after their data was written), then an fsync, then the bitmaps, then an
     * fsync.
     */
    @Override
    public void flush() throws IOException {
        if (readOnly) {
            return;
        }
        synchronized (flushLock) {
            lock.readLock().lock(); // no block moves or goes while its bitmap is written
            try {
                List<Integer> blocks = new ArrayList<>();
                List<byte[]> copies = new ArrayList<>();
                for (int block : new ArrayList<>(dirtyBitmaps)) {
                    dirtyBitmaps.remove(block);
                    byte[] bitmap = bitmaps.get(block);
                    if (bitmap == null) {
                        continue; // deallocated: nothing to write
                    }
                    synchronized (bitmap) {
                        copies.add(bitmap.clone());
                    }
                    blocks.add(block);
                }
                channel.force(false);
                if (blocks.isEmpty()) {
                    return;
                }
                try {
                    for (int i = 0; i < blocks.size(); i++) {
                        Positional.write(channel, copies.get(i), sectorOffset(bat[blocks.get(i)]));
                    }
                    channel.force(false);
                } catch (IOException | RuntimeException e) {
                    dirtyBitmaps.addAll(blocks); // written by the next flush
                    throw e;
                }
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
