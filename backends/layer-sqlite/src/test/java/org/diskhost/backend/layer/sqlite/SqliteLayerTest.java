package org.diskhost.backend.layer.sqlite;

import static org.diskhost.testkit.DiskAssertions.allocate;
import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.testkit.LayerConformance;
import org.diskhost.testkit.RecordingMarker;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layer suite over SQLite layers, and the file format's rules. */
class SqliteLayerTest {
    @TempDir
    Path dir;

    private SqliteLayer format(String name, boolean logicallyReadOnly, long sectors, int sectorSize)
            throws SQLException {
        SqliteMeta meta = new SqliteMeta(logicallyReadOnly, sectors, sectorSize);
        return new SqliteLayer(SqliteStore.format(dir.resolve(name), meta), meta);
    }

    @Nested
    class Sectors512 extends LayerConformance {
        @Override
        protected LayerIo openLayer() throws SQLException {
            return format("a.dbhd", false, 128, 512);
        }
    }

    @Nested
    class Sectors4096 extends LayerConformance {
        @Override
        protected LayerIo openLayer() throws SQLException {
            return format("b.dbhd", false, 64, 4096);
        }
    }

    @Nested
    class LogicallyReadOnly extends LayerConformance {
        @Override
        protected LayerIo openLayer() throws SQLException {
            return format("c.dbhd", true, 64, 512);
        }
    }

    private static RecordingMarker read(LayerIo layer, long sector, MemorySegment into) {
        RecordingMarker marker = new RecordingMarker(sector, into.byteSize() / layer.sectorSize());
        succeeds(layer.read(RequestBuffers.of(into, true), sector, marker));
        return marker;
    }

    @Test
    void dataAndMetadataSurviveReopening() throws SQLException {
        MemorySegment data = pattern(3 * 512, 4);
        SqliteLayer first = format("p.dbhd", false, 100, 512);
        try {
            succeeds(first.write(RequestBuffers.of(data, false), 10, false));
            succeeds(first.write(RequestBuffers.of(allocate(512), false), 20, false)); // zeros: a NULL row
            succeeds(first.syncCache());
        } finally {
            first.close();
        }
        SqliteStore store = SqliteStore.open(dir.resolve("p.dbhd"), true);
        SqliteMeta meta = store.meta();
        assertEquals(new SqliteMeta(false, 100, 512), meta);
        SqliteLayer layer = new SqliteLayer(store, meta);
        try {
            MemorySegment back = allocate(12 * 512).fill((byte) 0x77);
            RecordingMarker marks = read(layer, 10, back);
            assertSameBytes(data, back.asSlice(0, 3 * 512), "written sectors");
            assertTrue(marks.isMarked(20) && isZero(back.asSlice(10 * 512, 512)), "a zero sector is present");
            assertFalse(marks.isMarked(15));
            assertEquals((byte) 0x77, back.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 5 * 512), "untouched");
            assertEquals(4, marks.cardinality());
        } finally {
            layer.close();
        }
    }

    @Test
    void unmapDeletesRowsWhenNothingIsBelowAndStoresZerosOtherwise() throws SQLException {
        SqliteLayer layer = format("u.dbhd", false, 64, 512);
        try {
            succeeds(layer.write(RequestBuffers.of(pattern(8 * 512, 1), false), 0, false));
            succeeds(layer.unmap(0, 4, false, true));
            succeeds(layer.unmap(4, 4, false, false));
            MemorySegment back = allocate(8 * 512);
            RecordingMarker marks = read(layer, 0, back);
            for (int s = 0; s < 4; s++) {
                assertFalse(marks.isMarked(s), "dropped: sector " + s);
            }
            for (int s = 4; s < 8; s++) {
                assertTrue(marks.isMarked(s), "present zeros: sector " + s);
            }
            assertTrue(isZero(back.asSlice(4 * 512, 4 * 512)));
            assertEquals(List.of(new AllocationExtent(4, Allocation.HOLE), new AllocationExtent(4, Allocation.ZERO),
                    new AllocationExtent(56, Allocation.HOLE)), succeeds(layer.allocation(0, 64)));
            succeeds(layer.write(RequestBuffers.of(pattern(512, 2), false), 5, false));
            assertEquals(new AllocationExtent(1, Allocation.DATA), succeeds(layer.allocation(5, 3)).getFirst());
            succeeds(layer.unmap(64, 0, false, true));
            failsWith(DiskError.IllegalBlock.class, layer.unmap(64, 1, false, true));
        } finally {
            layer.close();
        }
    }

    @Test
    void metadataIsParsedStrictly() {
        assertEquals(new SqliteMeta(true, 7, 4096), SqliteMeta.parse(new SqliteMeta(true, 7, 4096).toJson()));
        assertThrows(IllegalArgumentException.class, () -> SqliteMeta.parse("{\"sector_count\": 7}"));
        assertThrows(IllegalArgumentException.class, () -> SqliteMeta.parse(
                "{\"logically_read_only\": false, \"sector_count\": 7, \"sector_size\": 1000}"));
    }
}
