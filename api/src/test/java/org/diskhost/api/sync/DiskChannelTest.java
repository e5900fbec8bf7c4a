package org.diskhost.api.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.DiskIo;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.junit.jupiter.api.Test;

class DiskChannelTest {

    /** A plain array disk that records whether every write used FUA. */
    static final class Backing implements DiskIo {
        final byte[] data;
        final int sectorSize;
        final AtomicInteger nonFuaWrites = new AtomicInteger();
        final AtomicInteger writes = new AtomicInteger();

        Backing(int sectorSize, int sectors) {
            this.sectorSize = sectorSize;
            this.data = new byte[sectorSize * sectors];
        }

        public String diskType() {
            return "array";
        }

        public long sectorCount() {
            return data.length / sectorSize;
        }

        public int sectorSize() {
            return sectorSize;
        }

        public java.util.Optional<org.diskhost.api.DiskId> diskId() {
            return java.util.Optional.empty();
        }

        public int physicalSectorSize() {
            return sectorSize;
        }

        public boolean isFuaRespected() {
            return true;
        }

        public boolean isReadOnly() {
            return false;
        }

        public UnmapBehavior unmapBehavior() {
            return UnmapBehavior.IGNORED;
        }

        public CompletableFuture<Void> readVectored(RequestBuffers b, long sector) {
            if (sector + b.length() / sectorSize > sectorCount()) {
                return DiskException.failed(new DiskError.IllegalBlock());
            }
            b.writer().write(MemorySegment.ofArray(data).asSlice(sector * sectorSize, b.length()));
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> writeVectored(RequestBuffers b, long sector, boolean fua) {
            writes.incrementAndGet();
            if (!fua) {
                nonFuaWrites.incrementAndGet();
            }
            b.reader().read(MemorySegment.ofArray(data).asSlice(sector * sectorSize, b.length()));
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> syncCache() {
            return CompletableFuture.completedFuture(null);
        }

        public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
            return CompletableFuture.completedFuture(null);
        }
    }

    @Test
    void randomReadsAndWritesMatchAByteArrayModel() throws IOException {
        Backing backing = new Backing(512, 64);
        byte[] model = new byte[backing.data.length];
        Random random = new Random(42);
        try (DiskChannel channel = DiskChannel.of(Disk.of(backing))) {
            for (int i = 0; i < 500; i++) {
                int position = random.nextInt(model.length);
                int length = random.nextInt(Math.min(3000, model.length - position) + 1);
                channel.position(position);
                if (random.nextBoolean()) {
                    byte[] chunk = new byte[length];
                    random.nextBytes(chunk);
                    assertEquals(length, channel.write(ByteBuffer.wrap(chunk)));
                    System.arraycopy(chunk, 0, model, position, length);
                } else {
                    ByteBuffer into = random.nextBoolean() ? ByteBuffer.allocate(length)
                            : ByteBuffer.allocateDirect(length);
                    int n = channel.read(into);
                    assertEquals(length == 0 ? 0 : length, n);
                    byte[] got = new byte[length];
                    into.flip().get(got);
                    assertArrayEquals(Arrays.copyOfRange(model, position, position + length), got,
                            "read at " + position + " length " + length);
                }
                assertEquals(position + length, channel.position());
            }
        }
        assertArrayEquals(model, backing.data, "close writes back the cached sector");
        assertEquals(0, backing.nonFuaWrites.get(), "every write uses FUA");
    }

    @Test
    void partialSectorWritesAreCachedUntilTheChannelMovesOn() throws IOException {
        Backing backing = new Backing(512, 8);
        try (DiskChannel channel = DiskChannel.of(Disk.of(backing))) {
            for (int i = 0; i < 100; i++) {
                channel.write(ByteBuffer.wrap(new byte[] {(byte) (i + 1)}));
            }
            assertEquals(0, backing.writes.get(), "one-byte writes stay in the sector cache");
            channel.flush();
            assertEquals(1, backing.writes.get());
            assertEquals(100, backing.data[99]);
        }
    }

    @Test
    void sizeEndAndErrors() throws IOException {
        Backing backing = new Backing(4096, 4);
        DiskChannel channel = DiskChannel.of(Disk.of(backing));
        assertEquals(4 * 4096, channel.size());
        channel.position(4 * 4096);
        assertEquals(-1, channel.read(ByteBuffer.allocate(1)));
        channel.position(4 * 4096 - 1);
        assertEquals(1, channel.read(ByteBuffer.allocate(10)), "a read stops at the end");
        IOException past = assertThrows(IOException.class, () -> channel.write(ByteBuffer.allocate(2)));
        assertEquals(DiskError.IllegalBlock.class, ((DiskException) past.getCause()).error().getClass());
        assertThrows(IOException.class, () -> channel.truncate(0));
        channel.close();
        assertThrows(ClosedChannelException.class, () -> channel.read(ByteBuffer.allocate(1)));
    }
}
