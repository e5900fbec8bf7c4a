package org.diskhost.backend.layered;

import static org.diskhost.backend.layered.Stacks.cache;
import static org.diskhost.backend.layered.Stacks.plain;
import static org.diskhost.backend.layered.Stacks.ram;
import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.testkit.DiskAssertions;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random reads, writes and unmaps against an exact model of what the disk must read as: in range they succeed,
 * out of range they fail with {@code IllegalBlock}. A sector unmapped on a disk whose unmap behaviour is unspecified
 * may read as anything, but once read it must stay so until written.
 */
class LayeredModelTest {
    private static final int SS = 512;
    private static final int SECTORS = 256;
    private static final int BASE_SECTORS = 200;

    /** Expected sector contents; null: unspecified until read. */
    private final byte[][] model = new byte[SECTORS][];

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void randomOperationsMatchTheModel(long seed) {
        MemoryDisk base = MemoryDisk.builder(SS, BASE_SECTORS).readOnly(true).build();
        DiskAssertions.pattern(base.content(), seed);
        for (int s = 0; s < SECTORS; s++) {
            model[s] = s < BASE_SECTORS ? base.content().asSlice((long) s * SS, SS).toArray(ValueLayout.JAVA_BYTE)
                    : new byte[SS];
        }
        // A writable RAM diff over a read cache over a smaller read-only disk.
        Disk disk = Stacks.disk(false, plain(ram(SS, SECTORS)), cache(ram(SS, SECTORS)),
                plain(new DiskLayer(Disk.of(base))));
        Random random = new Random(seed);
        for (int op = 0; op < 3000; op++) {
            boolean outside = random.nextInt(20) == 0;
            int count = 1 + random.nextInt(16);
            long sector = outside ? SECTORS - count + 1 + random.nextInt(8) : random.nextInt(SECTORS - count + 1);
            switch (random.nextInt(3)) {
                case 0 -> read(disk, sector, count, outside);
                case 1 -> write(disk, sector, count, outside, random);
                default -> unmap(disk, sector, count, outside);
            }
        }
        for (int s = 0; s < SECTORS; s += 16) {
            read(disk, s, 16, false);
        }
        // What allocation says reads as zeros does.
        long sector = 0;
        for (AllocationExtent extent : succeeds(disk.allocation(0, SECTORS))) {
            for (long s = sector; s < sector + extent.sectorCount(); s++) {
                if (extent.allocation().readsAsZeros()) {
                    assertArrayEquals(new byte[SS], model[(int) s], "sector " + s + " is " + extent.allocation());
                }
            }
            sector += extent.sectorCount();
        }
    }

    private void read(Disk disk, long sector, int count, boolean outside) {
        MemorySegment into = allocate((long) count * SS);
        if (outside) {
            failsWith(DiskError.IllegalBlock.class, disk.readVectored(RequestBuffers.of(into, true), sector));
            return;
        }
        succeeds(disk.readVectored(RequestBuffers.of(into, true), sector));
        for (int i = 0; i < count; i++) {
            byte[] got = into.asSlice((long) i * SS, SS).toArray(ValueLayout.JAVA_BYTE);
            int s = (int) sector + i;
            if (model[s] == null) {
                model[s] = got; // unspecified until read; stable afterwards
            } else {
                assertArrayEquals(model[s], got, "sector " + s);
            }
        }
    }

    private void write(Disk disk, long sector, int count, boolean outside, Random random) {
        byte[] data = new byte[count * SS];
        random.nextBytes(data);
        MemorySegment from = allocate(data.length).copyFrom(MemorySegment.ofArray(data));
        if (outside) {
            failsWith(DiskError.IllegalBlock.class, disk.writeVectored(RequestBuffers.of(from, false), sector, false));
            return;
        }
        succeeds(disk.writeVectored(RequestBuffers.of(from, false), sector, false));
        for (int i = 0; i < count; i++) {
            model[(int) sector + i] = Arrays.copyOfRange(data, i * SS, (i + 1) * SS);
        }
    }

    private void unmap(Disk disk, long sector, int count, boolean outside) {
        if (outside) {
            failsWith(DiskError.IllegalBlock.class, disk.unmap(sector, count, false));
            return;
        }
        succeeds(disk.unmap(sector, count, false));
        for (int i = 0; i < count; i++) {
            int s = (int) sector + i;
            model[s] = switch (disk.unmapBehavior()) {
                case ZEROES -> new byte[SS];
                case IGNORED -> model[s];
                case UNSPECIFIED -> null;
            };
        }
        assert disk.unmapBehavior() != UnmapBehavior.IGNORED || model[(int) sector] != null;
    }
}
