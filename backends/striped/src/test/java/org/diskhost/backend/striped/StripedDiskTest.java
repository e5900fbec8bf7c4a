package org.diskhost.backend.striped;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskId;
import org.diskhost.api.DiskIo;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.Test;

class StripedDiskTest {
    private final List<MemoryDisk> memories = new ArrayList<>();
    private final List<RecordingDisk> members = new ArrayList<>();

    /** {@code n} recorded members of {@code sectors} 512-byte sectors, striped in chunks of {@code chunkBytes}. */
    private Disk striped(int n, long sectors, long chunkBytes) {
        List<Disk> disks = new ArrayList<>();
        for (int m = 0; m < n; m++) {
            MemoryDisk memory = MemoryDisk.of(512, sectors);
            RecordingDisk member = new RecordingDisk(Disk.of(memory));
            memories.add(memory);
            members.add(member);
            disks.add(Disk.of(member));
        }
        return Disk.of(new StripedDisk(disks, StripeLayout.of(disks, chunkBytes, OptionalLong.empty())));
    }

    private static RequestBuffers sectors(long count, boolean writable) {
        return RequestBuffers.of(allocate(count * 512), writable);
    }

    // ---- ranges (the reference's striped tests) ----

    @Test
    void oneSectorOverTheEndFailsForReadWriteAndUnmap() {
        Disk disk = striped(2, 2048, 4096);
        long n = disk.sectorCount();
        failsWith(DiskError.IllegalBlock.class, disk.readVectored(sectors(2, true), n - 1));
        failsWith(DiskError.IllegalBlock.class, disk.writeVectored(sectors(2, false), n - 1, false));
        failsWith(DiskError.IllegalBlock.class, disk.unmap(n - 1, 2, false));
        failsWith(DiskError.IllegalBlock.class, disk.unmap(n, 1, false));
        members.forEach(m -> assertTrue(m.calls().isEmpty(), "no member saw an out-of-range request"));
    }

    @Test
    void anEndSectorThatWrapsIsIllegal() {
        DiskIo raw = striped(2, 2048, 4096).backend(); // below Disk's own representability check
        failsWith(DiskError.IllegalBlock.class, raw.readVectored(sectors(2, true), -2L)); // u64max - 1
        failsWith(DiskError.IllegalBlock.class, raw.writeVectored(sectors(2, false), -2L, false));
        failsWith(DiskError.IllegalBlock.class, raw.unmap(-2L, 2, false));
    }

    @Test
    void unmapOfTheWholeDiskTheMiddleTheTailAndZeroSectorsSucceeds() {
        Disk disk = striped(2, 2048, 64 * 1024);
        long n = disk.sectorCount();
        succeeds(disk.unmap(0, n, false));
        succeeds(disk.unmap(n / 2 - 100, 200, false));
        succeeds(disk.unmap(n - 10, 10, false));
        succeeds(disk.unmap(5, 0, false));
        succeeds(disk.unmap(n, 0, false));
    }

    // ---- how requests reach the members ----

    @Test
    void aRequestIsSplitAtChunkBoundariesIntoMemberRequests() {
        Disk disk = striped(3, 64, 4096); // 8-sector chunks
        succeeds(disk.writeVectored(sectors(20, false), 5, false)); // sectors 5..24: chunks 0 (3), 1 (8), 2 (8), 3 (1)
        assertEquals(List.of(new RecordingDisk.Call("write", 5, 3), new RecordingDisk.Call("write", 8, 1)),
                members.get(0).calls());
        assertEquals(List.of(new RecordingDisk.Call("write", 0, 8)), members.get(1).calls());
        assertEquals(List.of(new RecordingDisk.Call("write", 0, 8)), members.get(2).calls());
    }

    @Test
    void memberRequestsAreIssuedTogetherAndTheRequestWaitsForAll() {
        Disk disk = striped(4, 64, 4096);
        members.forEach(RecordingDisk::hold);
        CompletableFuture<Void> read = disk.readVectored(sectors(64, true), 0); // 8 chunks, 2 per member
        members.forEach(m -> assertEquals(2, m.calls().size(), "issued before any completed"));
        for (int m = 0; m < 3; m++) {
            members.get(m).release();
        }
        assertFalse(read.isDone(), "waits for the last member");
        members.get(3).release();
        succeeds(read);
    }

    @Test
    void unmapSendsOneContiguousRangePerMember() {
        Disk disk = striped(3, 64, 4096); // 8-sector chunks, 3 members
        // Global 10..69: chunks 1 (10..15), 2, 3, 4, 5, 6, 7, 8 (64..69)
        succeeds(disk.unmap(10, 60, false));
        // member 0: chunks 3, 6 -> rows 1, 2 -> 8..23
        assertEquals(List.of(new RecordingDisk.Call("unmap", 8, 16)), members.get(0).calls());
        // member 1: chunk 1 from offset 2, chunks 4, 7 -> 2..23
        assertEquals(List.of(new RecordingDisk.Call("unmap", 2, 22)), members.get(1).calls());
        // member 2: chunks 2, 5, 8 (first 6 sectors) -> 0..21
        assertEquals(List.of(new RecordingDisk.Call("unmap", 0, 22)), members.get(2).calls());
    }

    @Test
    void unmapSkipsMembersWithNothingInTheRange() {
        Disk disk = striped(4, 64, 4096);
        succeeds(disk.unmap(9, 3, false)); // inside chunk 1 only
        assertTrue(members.get(0).calls().isEmpty());
        assertEquals(List.of(new RecordingDisk.Call("unmap", 1, 3)), members.get(1).calls());
        assertTrue(members.get(2).calls().isEmpty());
        assertTrue(members.get(3).calls().isEmpty());
    }

    @Test
    void unmapZeroesExactlyTheRangeOnEveryMember() {
        Disk disk = striped(3, 64, 1536); // 3-sector chunks
        long n = disk.sectorCount();
        MemorySegment data = pattern(n * 512, 4);
        write(disk, 0, data);
        succeeds(disk.unmap(7, 50, false));
        MemorySegment after = read(disk, 0, n);
        assertTrue(isZero(after.asSlice(7 * 512, 50 * 512)), "the range reads as zeros");
        assertEquals(-1, data.asSlice(0, 7 * 512).mismatch(after.asSlice(0, 7 * 512)), "before the range");
        assertEquals(-1, data.asSlice(57 * 512).mismatch(after.asSlice(57 * 512)), "after the range");
    }

    @Test
    void syncCacheAndEjectGoToEveryMember() {
        Disk disk = striped(3, 64, 4096);
        succeeds(disk.syncCache());
        succeeds(disk.eject());
        for (RecordingDisk m : members) {
            assertEquals(List.of(new RecordingDisk.Call("sync", 0, 0), new RecordingDisk.Call("eject", 0, 0)),
                    m.calls());
        }
    }

    // ---- errors ----

    @Test
    void memberReadAndWriteErrorsBecomeIoNamingTheMember() {
        Disk disk = striped(2, 64, 4096);
        members.get(1).failWith(new DiskError.MediumError(new java.io.IOException("bad"),
                org.diskhost.api.MediumErrorDetails.UNRECOVERED_READ_ERROR));
        DiskError read = fails(disk.readVectored(sectors(16, true), 0));
        DiskError.Io io = assertInstanceOf(DiskError.Io.class, read);
        assertTrue(io.cause().getMessage().startsWith("error in lower disk 1"), io.cause().getMessage());
        assertInstanceOf(DiskError.Io.class, fails(disk.writeVectored(sectors(16, false), 0, false)));
    }

    @Test
    void evenAMemberIllegalBlockBecomesIo() {
        Disk disk = striped(2, 64, 4096);
        members.get(0).failWith(new DiskError.IllegalBlock());
        assertInstanceOf(DiskError.Io.class, fails(disk.readVectored(sectors(1, true), 0)));
    }

    @Test
    void theFirstFailureInRequestOrderIsReported() {
        Disk disk = striped(3, 64, 4096);
        members.get(1).failWith(new DiskError.ReadOnly());
        members.get(2).failWith(new DiskError.ReadOnly());
        DiskError.Io io = assertInstanceOf(DiskError.Io.class, fails(disk.readVectored(sectors(24, true), 8)));
        assertTrue(io.cause().getMessage().startsWith("error in lower disk 1"), io.cause().getMessage());
        io = assertInstanceOf(DiskError.Io.class, fails(disk.readVectored(sectors(16, true), 16)));
        assertTrue(io.cause().getMessage().startsWith("error in lower disk 2"), io.cause().getMessage());
    }

    @Test
    void syncErrorsBecomeIoButUnmapAndEjectErrorsPassThrough() {
        Disk disk = striped(2, 64, 4096);
        members.get(1).failWith(new DiskError.ReadOnly());
        assertInstanceOf(DiskError.Io.class, fails(disk.syncCache()));
        failsWith(DiskError.ReadOnly.class, disk.unmap(0, 64, false));
        members.get(1).failWith(new DiskError.UnsupportedEject());
        failsWith(DiskError.UnsupportedEject.class, disk.eject());
    }

    @Test
    void ejectOfMembersThatCannotEjectFailsUnsupported() {
        List<Disk> disks = List.of(Disk.of(MemoryDisk.of(512, 64)), Disk.of(MemoryDisk.of(512, 64)));
        Disk disk = Disk.of(new StripedDisk(disks, StripeLayout.of(disks, 4096, OptionalLong.empty())));
        failsWith(DiskError.UnsupportedEject.class, disk.eject());
    }

    @Test
    void aReadIntoBuffersTheDeviceMayNotWriteIsAMemoryErrorNotIo() {
        Disk disk = striped(2, 64, 4096);
        failsWith(DiskError.MemoryAccess.class, disk.readVectored(sectors(16, false), 0));
        members.forEach(m -> assertTrue(m.calls().isEmpty()));
    }

    // ---- derived metadata ----

    /** A member whose metadata the test chooses. */
    private static final class Shaped extends ForwardingDiskIo {
        private final int physical;
        private final boolean fua;
        private final UnmapBehavior unmap;
        private final int optimal;

        Shaped(int physical, boolean fua, UnmapBehavior unmap, int optimal) {
            super(Disk.of(MemoryDisk.of(512, 64)));
            this.physical = physical;
            this.fua = fua;
            this.unmap = unmap;
            this.optimal = optimal;
        }

        @Override
        public String diskType() {
            return "shaped";
        }

        @Override
        public int physicalSectorSize() {
            return physical;
        }

        @Override
        public boolean isFuaRespected() {
            return fua;
        }

        @Override
        public UnmapBehavior unmapBehavior() {
            return unmap;
        }

        @Override
        public int optimalUnmapSectors() {
            return optimal;
        }

        @Override
        public Optional<DiskId> diskId() {
            return Optional.of(DiskId.ofHex("00112233445566778899aabbccddeeff"));
        }
    }

    private static Disk stripedOf(DiskIo... members) {
        List<Disk> disks = java.util.Arrays.stream(members).map(Disk::of).toList();
        return Disk.of(new StripedDisk(disks, StripeLayout.of(disks, 4096, OptionalLong.empty())));
    }

    @Test
    void metadataIsDerivedFromTheMembers() {
        Disk disk = stripedOf(new Shaped(512, true, UnmapBehavior.ZEROES, 8),
                new Shaped(4096, false, UnmapBehavior.ZEROES, 1));
        assertEquals("striped", disk.diskType());
        assertEquals(128, disk.sectorCount());
        assertEquals(4096, disk.physicalSectorSize(), "the largest");
        assertFalse(disk.isFuaRespected(), "only when every member respects FUA");
        assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
        assertEquals(8, disk.optimalUnmapSectors(), "the largest");
        assertTrue(disk.diskId().isEmpty(), "no id, even though the members have one");
        assertTrue(disk.pr().isEmpty());
        assertTrue(stripedOf(new Shaped(512, true, UnmapBehavior.ZEROES, 1),
                new Shaped(512, true, UnmapBehavior.ZEROES, 1)).isFuaRespected());
    }

    @Test
    void unmapBehaviourIsZeroesOrIgnoredOnlyWhenAllMembersAgree() {
        assertEquals(UnmapBehavior.IGNORED, stripedOf(new Shaped(512, true, UnmapBehavior.IGNORED, 1),
                new Shaped(512, true, UnmapBehavior.IGNORED, 1)).unmapBehavior());
        assertEquals(UnmapBehavior.UNSPECIFIED, stripedOf(new Shaped(512, true, UnmapBehavior.IGNORED, 1),
                new Shaped(512, true, UnmapBehavior.ZEROES, 1)).unmapBehavior());
        assertEquals(UnmapBehavior.UNSPECIFIED, stripedOf(new Shaped(512, true, UnmapBehavior.UNSPECIFIED, 1),
                new Shaped(512, true, UnmapBehavior.UNSPECIFIED, 1)).unmapBehavior());
    }

    @Test
    void theSizeIsFixedSoWaitResizeNeverCompletes() {
        MemoryDisk grows = MemoryDisk.builder(512, 64).capacity(128).build();
        List<Disk> disks = List.of(Disk.of(grows));
        Disk disk = Disk.of(new StripedDisk(disks, StripeLayout.of(disks, 4096, OptionalLong.empty())));
        CompletableFuture<Long> resized = disk.waitResize(64);
        grows.resize(128);
        assertFalse(resized.isDone());
        assertEquals(64, disk.sectorCount());
    }

    @Test
    void inspectShowsTheGeometryAndTheMembers() {
        InspectTree tree = InspectTree.of(striped(2, 64, 4096));
        assertEquals(2, tree.get("members"));
        assertEquals(4096L, tree.get("chunk_size"));
        assertEquals("recording", tree.get("member1.disk_type"));
    }
}
