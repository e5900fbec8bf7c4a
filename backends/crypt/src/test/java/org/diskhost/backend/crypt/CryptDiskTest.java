package org.diskhost.backend.crypt;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.GuestMemory;
import org.diskhost.api.buffers.PagedRange;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The crypt decorator's own behaviour, over in-memory disks whose stored bytes the tests can see. */
class CryptDiskTest {

    private static Disk crypt(MemoryDisk memory) {
        return crypt(Disk.of(memory));
    }

    private static Disk crypt(Disk inner) {
        return Disk.of(new CryptDisk(inner, new XtsAes256(XtsKey.of(CryptDisks.KEY), inner.sectorSize())));
    }

    /** The ciphertext of {@code plaintext} at {@code sector}, by the cipher alone. */
    private static MemorySegment encrypted(MemorySegment plaintext, long sector, int sectorSize) {
        MemorySegment out = allocate(plaintext.byteSize());
        new XtsAes256(XtsKey.of(CryptDisks.KEY), sectorSize).encrypt(List.of(plaintext), List.of(out),
                plaintext.byteSize(), sector);
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {512, 4096})
    void theDiskBelowHoldsEachSectorsCiphertextAndReadsGiveThePlaintext(int sectorSize) {
        MemoryDisk memory = MemoryDisk.of(sectorSize, 64);
        Disk disk = crypt(memory);
        MemorySegment data = pattern(3L * sectorSize, 1);
        write(disk, 5, data);
        MemorySegment stored = memory.content().asSlice(5L * sectorSize, 3L * sectorSize);
        assertNotEquals(-1, stored.mismatch(data), "the disk below must not hold the plaintext");
        for (int i = 0; i < 3; i++) {
            MemorySegment one = data.asSlice((long) i * sectorSize, sectorSize);
            assertSameBytes(encrypted(one, 5 + i, sectorSize), stored.asSlice((long) i * sectorSize, sectorSize),
                    "sector " + (5 + i) + " is enciphered under its own number");
        }
        assertSameBytes(data, read(disk, 5, 3), "read back");
    }

    /** The reference's own crypt test: a 64 KiB round trip at sector 10. */
    @Test
    void holesBelowAreDataAbove() {
        MemoryDisk memory = MemoryDisk.of(512, 64);
        DiskIo holes = new ForwardingDiskIo(Disk.of(memory)) {
            @Override
            public String diskType() {
                return "holes";
            }

            @Override
            public CompletableFuture<java.util.List<AllocationExtent>> allocation(long s, long n) {
                return CompletableFuture.completedFuture(List.of(
                        new AllocationExtent(n, Allocation.HOLE)));
            }
        };
        Disk disk = crypt(Disk.of(holes));
        assertEquals(List.of(new AllocationExtent(8, Allocation.DATA)),
                disk.allocation(0, 8).join(), "zeros below decrypt to noise: not a hole here");
    }

    @Test
    void aSixtyFourKibRoundTripAtSectorTen() {
        Disk disk = crypt(MemoryDisk.of(512, 1024));
        MemorySegment data = pattern(64 * 1024, 10);
        write(disk, 10, data);
        assertSameBytes(data, read(disk, 10, 128), "64 KiB at sector 10");
    }

    /** Larger than a pooled staging buffer and than one cipher chunk. */
    @Test
    void aOneMibRoundTrip() {
        Disk disk = crypt(MemoryDisk.of(4096, 512));
        MemorySegment data = pattern(1 << 20, 11);
        write(disk, 7, data);
        assertSameBytes(data, read(disk, 7, 256), "1 MiB at sector 7");
    }

    @Test
    void writesNeverModifyTheCallersBuffers() {
        MemoryDisk memory = MemoryDisk.builder(512, 64).completeOn(ForkJoinPool.commonPool()).build();
        Disk disk = crypt(memory);

        MemorySegment nativeData = pattern(8 * 512, 2);
        MemorySegment nativeBefore = allocate(nativeData.byteSize()).copyFrom(nativeData);
        succeeds(disk.writeVectored(RequestBuffers.of(nativeData, false), 1, true));
        assertSameBytes(nativeBefore, nativeData, "native buffer after the write");

        byte[] heap = pattern(4 * 512, 3).toArray(ValueLayout.JAVA_BYTE);
        byte[] heapBefore = heap.clone();
        succeeds(disk.writeVectored(RequestBuffers.of(MemorySegment.ofArray(heap), false), 20, false));
        assertSameBytes(MemorySegment.ofArray(heapBefore), MemorySegment.ofArray(heap), "heap buffer after the write");

        // Scattered guest pages, entered mid-page: the whole of guest memory is unchanged.
        GuestMemory guest = GuestMemory.of(pattern(16L * GuestMemory.PAGE_SIZE, 4));
        MemorySegment guestBefore = allocate(guest.size()).copyFrom(guest.segment());
        PagedRange pages = PagedRange.of(new long[] {9, 2, 5}, 1028, 4 * 512);
        RequestBuffers scattered = new RequestBuffers(guest, pages, false);
        succeeds(disk.writeVectored(scattered, 40, false));
        assertSameBytes(guestBefore, guest.segment(), "guest memory after the write");
        assertSameBytes(MemorySegment.ofArray(scattered.reader().readAll()), read(disk, 40, 4), "scattered round trip");
    }

    @Test
    void aWriteFromMemoryOutsideTheGuestFailsWithMemoryAccessAndReachesNothing() {
        MemoryDisk memory = MemoryDisk.of(512, 64);
        Disk disk = crypt(memory);
        GuestMemory guest = GuestMemory.of(allocate(2 * GuestMemory.PAGE_SIZE));
        RequestBuffers outside = new RequestBuffers(guest, PagedRange.ofPages(7), false);
        long before = memory.requests();
        failsWith(DiskError.MemoryAccess.class, disk.writeVectored(outside, 0, false));
        assertEquals(before, memory.requests());
    }

    @Test
    void aWriteOutsideTheDiskFailsBeforeAnyEncryption() {
        MemoryDisk memory = MemoryDisk.of(512, 64);
        Disk disk = crypt(memory);
        long before = memory.requests();
        RequestBuffers twoSectors = RequestBuffers.of(allocate(1024), false);
        failsWith(DiskError.IllegalBlock.class, disk.writeVectored(twoSectors, 63, false)); // the last and one more
        assertEquals(before, memory.requests());
    }

    @Test
    void unmappedSectorsReadAsDecryptedZerosSoTheBehaviourIsUnspecified() {
        MemoryDisk memory = MemoryDisk.of(512, 64);
        Disk disk = crypt(memory);
        assertEquals(UnmapBehavior.ZEROES, memory.unmapBehavior());
        assertEquals(UnmapBehavior.UNSPECIFIED, disk.unmapBehavior());
        write(disk, 8, pattern(4 * 512, 5));
        succeeds(disk.unmap(8, 4, false));
        assertTrue(isZero(memory.content().asSlice(8 * 512, 4 * 512)), "the unmap reached the disk below");
        assertFalse(isZero(read(disk, 8, 4)), "zeroed ciphertext decrypts to noise");
    }

    @Test
    void anIgnoringDiskBelowStaysIgnoredAndUnspecifiedStaysUnspecified() {
        assertEquals(UnmapBehavior.IGNORED, crypt(Disk.of(new Probe(MemoryDisk.of(512, 64), UnmapBehavior.IGNORED)))
                .unmapBehavior());
        assertEquals(UnmapBehavior.UNSPECIFIED,
                crypt(Disk.of(new Probe(MemoryDisk.of(512, 64), UnmapBehavior.UNSPECIFIED))).unmapBehavior());
    }

    @Test
    void metadataFlushFuaAndUnmapHintsAreForwarded() {
        DiskId id = DiskId.ofHex("000102030405060708090a0b0c0d0e0f");
        Probe probe = new Probe(MemoryDisk.builder(512, 100).diskId(id).build(), UnmapBehavior.ZEROES);
        Disk disk = crypt(Disk.of(probe));
        assertEquals("crypt", disk.diskType());
        assertEquals(100, disk.sectorCount());
        assertEquals(512, disk.sectorSize());
        assertEquals(Optional.of(id), disk.diskId());
        assertEquals(4096, disk.physicalSectorSize());
        assertEquals(8, disk.optimalUnmapSectors());
        assertTrue(disk.isFuaRespected());
        assertFalse(disk.isReadOnly());

        succeeds(disk.writeVectored(RequestBuffers.of(allocate(512), false), 3, true));
        assertEquals(Boolean.TRUE, probe.lastFua);
        succeeds(disk.writeVectored(RequestBuffers.of(allocate(512), false), 3, false));
        assertEquals(Boolean.FALSE, probe.lastFua);
        succeeds(disk.unmap(4, 2, true));
        assertEquals(Boolean.TRUE, probe.lastBlockLevelOnly);
        int flushes = probe.flushes;
        succeeds(disk.syncCache());
        assertEquals(flushes + 1, probe.flushes);
    }

    @Test
    void ejectIsNotForwarded() {
        failsWith(DiskError.UnsupportedEject.class, crypt(MemoryDisk.of(512, 64)).eject());
    }

    @Test
    void resizeWaitsAreForwarded() {
        MemoryDisk memory = MemoryDisk.builder(512, 64).capacity(128).build();
        Disk disk = crypt(memory);
        CompletableFuture<Long> waiting = disk.waitResize(64);
        assertFalse(waiting.isDone());
        memory.resize(100);
        assertEquals(100L, succeeds(waiting));
        assertEquals(100L, disk.sectorCount());
    }

    @Test
    void inspectionShowsTheCipherAndTheDiskBelowButNoKey() {
        Disk disk = crypt(MemoryDisk.of(512, 64));
        write(disk, 0, pattern(2 * 512, 6));
        read(disk, 0, 2);
        InspectTree tree = InspectTree.of(disk);
        assertEquals("crypt", tree.get("disk_type"));
        assertEquals("xts-aes-256", tree.get("cipher"));
        assertEquals(2L, tree.get("sectors_encrypted"));
        assertEquals(2L, tree.get("sectors_decrypted"));
        assertEquals("memory", tree.get("inner.disk_type"));
        Secrets.assertNoKeyMaterial(CryptDisks.KEY, tree.toString());
        Secrets.assertNoKeyMaterial(CryptDisks.KEY, disk.toString());
        Secrets.assertNoKeyMaterial(CryptDisks.KEY, disk.backend().toString());
    }

    /** A disk below that reports a chosen unmap behaviour and records what reaches it. */
    private static final class Probe extends ForwardingDiskIo {
        private final UnmapBehavior behavior;
        volatile Boolean lastFua;
        volatile Boolean lastBlockLevelOnly;
        volatile int flushes;

        Probe(MemoryDisk memory, UnmapBehavior behavior) {
            super(Disk.of(memory));
            this.behavior = behavior;
        }

        @Override
        public String diskType() {
            return "probe";
        }

        @Override
        public UnmapBehavior unmapBehavior() {
            return behavior;
        }

        @Override
        public int physicalSectorSize() {
            return 4096;
        }

        @Override
        public int optimalUnmapSectors() {
            return 8;
        }

        @Override
        public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
            lastFua = fua;
            return super.writeVectored(buffers, sector, fua);
        }

        @Override
        public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
            lastBlockLevelOnly = blockLevelOnly;
            return super.unmap(sector, count, blockLevelOnly);
        }

        @Override
        public CompletableFuture<Void> syncCache() {
            flushes++;
            return super.syncCache();
        }
    }
}
