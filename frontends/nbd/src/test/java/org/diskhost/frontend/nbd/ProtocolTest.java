package org.diskhost.frontend.nbd;

import static org.diskhost.testkit.DiskAssertions.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.diskhost.api.Disk;
import org.diskhost.frontend.nbd.Protocol.Command;
import org.diskhost.frontend.nbd.Protocol.Option;
import org.diskhost.frontend.nbd.Protocol.OptionReply;
import org.diskhost.frontend.nbd.RawClient.Reply;
import org.diskhost.testkit.MemoryDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The protocol at the byte level: errors for bad requests, and misbehaving clients that hurt nobody else. */
@Timeout(60)
class ProtocolTest {
    private static final int MIB = 1 << 20;
    private static final int READ = Command.READ.code;
    private static final int WRITE = Command.WRITE.code;

    @TempDir
    Path dir;
    TestServer server;
    MemoryDisk memory;
    Disk disk;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(dir, Map.of("exports", new String[] {"mem", "ro=mem;readOnly", "big"},
                "handshakeTimeout", "1s"));
        memory = MemoryDisk.of(512, 16 * 2048); // 16 MiB
        disk = Disk.of(memory);
        server.disk("mem", disk);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawClient client(String export, boolean structured, boolean blockSizes) throws Exception {
        return RawClient.connect(server.socket).greet().go(export, structured, blockSizes);
    }

    /** A 1 MiB disk whose requests each run after a random delay of up to {@code maxMillis} on {@code timer}. */
    private static MemoryDisk jittered(ScheduledExecutorService timer, long seed, int maxMillis) {
        Random jitter = new Random(seed);
        Executor late = task -> timer.schedule(task, jitter.nextInt(maxMillis), TimeUnit.MILLISECONDS);
        return MemoryDisk.builder(512, 2048).completeOn(late).build();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writesAndReadsWithSimpleReplies() throws Exception {
        try (RawClient c = client("mem", false, false)) {
            byte[] data = random(8192, 1);
            c.request(0, WRITE, 1, 4096, data.length, data);
            assertEquals(0, c.simpleReply(0).error());
            c.request(0, READ, 2, 4096, data.length);
            Reply r = c.simpleReply(data.length);
            assertEquals(2, r.cookie());
            assertArrayEquals(data, r.payload());
            assertArrayEquals(data, toArray(read(disk, 8, 16)));
        }
    }

    @Test
    void structuredReadIsOneDataChunk() throws Exception {
        try (RawClient c = client("mem", true, true)) {
            byte[] data = random(4096, 2);
            c.request(Protocol.CMD_FLAG_FUA, WRITE, 7, 0, data.length, data);
            Reply w = c.chunk();
            assertEquals(Protocol.Chunk.NONE.code, w.chunkType());
            assertTrue(w.done());
            c.request(Protocol.CMD_FLAG_DF, READ, 8, 0, data.length);
            Reply r = c.chunk();
            assertEquals(Protocol.Chunk.OFFSET_DATA.code, r.chunkType());
            assertTrue(r.done());
            ByteBuffer p = ByteBuffer.wrap(r.payload());
            assertEquals(0, p.getLong());
            byte[] got = new byte[data.length];
            p.get(got);
            assertArrayEquals(data, got);
        }
    }

    @Test
    void badRequestsGetTheProtocolsErrorsAndTheConnectionGoesOn() throws Exception {
        long size = 16L * MIB;
        try (RawClient c = client("mem", false, false)) {
            c.request(0, READ, 1, size - 512, 1024);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "read past the end");
            c.request(0, WRITE, 2, size - 512, 1024, new byte[1024]);
            assertEquals(NbdError.ENOSPC.code, c.simpleReply(0).error(), "write past the end");
            c.request(0, READ, 3, Long.MAX_VALUE, 4096);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "offset near 2^63");
            c.request(0, READ, 4, -512L, 1024);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "offset + length wraps");
            c.request(0, 42, 5, 0, 0);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "unknown command");
            c.request(1 << 9, READ, 6, 0, 512);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "unknown flag");
            c.request(1 << 9, WRITE, 7, 0, 512, new byte[512]);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "unknown flag on a write, payload skipped");
            c.request(0, Command.BLOCK_STATUS.code, 8, 0, 512);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "block status without a context");
            c.request(0, Command.TRIM.code, 9, size, 512);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "trim past the end");
            c.request(0, Command.WRITE_ZEROES.code, 10, size, 512);
            assertEquals(NbdError.ENOSPC.code, c.simpleReply(0).error(), "write-zeroes past the end");
            c.request(0, READ, 11, 0, 512);
            Reply ok = c.simpleReply(512);
            assertEquals(0, ok.error(), "the connection still works");
            assertEquals(11, ok.cookie());
        }
    }

    @Test
    void writesToAReadOnlyExportAreEperm() throws Exception {
        try (RawClient c = client("ro", true, false)) {
            assertTrue((c.transmissionFlags & Protocol.READ_ONLY) != 0);
            c.request(0, WRITE, 1, 0, 512, random(512, 3));
            Reply w = c.chunk();
            assertEquals(Protocol.Chunk.ERROR.code, w.chunkType());
            assertEquals(NbdError.EPERM.code, w.error());
            c.request(0, Command.TRIM.code, 2, 0, 512);
            assertEquals(NbdError.EPERM.code, c.chunk().error());
            c.request(0, Command.WRITE_ZEROES.code, 3, 0, 512);
            assertEquals(NbdError.EPERM.code, c.chunk().error());
            c.request(0, READ, 4, 0, 512);
            assertEquals(Protocol.Chunk.OFFSET_DATA.code, c.chunk().chunkType(), "reads still work");
        }
        assertTrue(isZero(read(disk, 0, 1)), "nothing was written");
    }

    @Test
    void requestsOf64MiBAreServedAndLargerOnesRefusedWithoutDroppingTheConnection() throws Exception {
        server.disk("big", Disk.of(MemoryDisk.of(512, 2 * 65536 + 2048))); // 65 MiB
        try (RawClient c = client("big", false, true)) {
            byte[] data = random(64 * MIB, 4);
            c.request(0, WRITE, 1, 0, data.length, data);
            assertEquals(0, c.simpleReply(0).error());
            c.request(0, READ, 2, 0, data.length);
            assertArrayEquals(data, c.simpleReply(data.length).payload());
            c.request(0, WRITE, 3, 0, 64 * MIB + 512, new byte[64 * MIB + 512]);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "oversized write, payload dropped");
            c.request(0, READ, 4, 0, 64 * MIB + 512);
            assertEquals(NbdError.EINVAL.code, c.simpleReply(0).error(), "oversized read");
            c.request(0, READ, 5, 512, 512);
            Reply r = c.simpleReply(512);
            assertEquals(5, r.cookie());
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 512, 1024), r.payload());
        }
    }

    @Test
    void unalignedRequestsAreServedForEveryClientWhetherOrNotItAgreedToBlockSizes() throws Exception {
        for (boolean blockSizes : new boolean[] {false, true}) {
            byte[] base = random(16384, blockSizes ? 15 : 5);
            memory.content().copyFrom(MemorySegment.ofArray(base));
            try (RawClient c = client("mem", false, blockSizes)) {
                byte[] patch = random(1000, 6);
                c.request(0, WRITE, 1, 100, patch.length, patch); // partial, whole, partial sectors
                assertEquals(0, c.simpleReply(0).error());
                byte[] small = random(10, 7);
                c.request(Protocol.CMD_FLAG_FUA, WRITE, 2, 2000, small.length, small); // inside one sector, FUA
                assertEquals(0, c.simpleReply(0).error());
                c.request(0, WRITE, 3, 2049, 1, new byte[] {(byte) 0xA5}); // one byte at an odd offset
                assertEquals(0, c.simpleReply(0).error());
                c.request(0, Command.WRITE_ZEROES.code, 4, 3000, 3000); // partial, whole, partial sectors
                assertEquals(0, c.simpleReply(0).error());
                c.request(Protocol.CMD_FLAG_NO_HOLE, Command.WRITE_ZEROES.code, 5, 7001, 3); // inside one sector
                assertEquals(0, c.simpleReply(0).error());
                c.request(0, Command.WRITE_ZEROES.code, 6, 7500, 24); // across a sector boundary, nothing whole
                assertEquals(0, c.simpleReply(0).error());
                c.request(0, Command.TRIM.code, 7, 9000, 2000); // only sectors 18 to 20 (9216 to 10752) are whole
                assertEquals(0, c.simpleReply(0).error());
                System.arraycopy(patch, 0, base, 100, patch.length);
                System.arraycopy(small, 0, base, 2000, small.length);
                base[2049] = (byte) 0xA5;
                java.util.Arrays.fill(base, 3000, 6000, (byte) 0);
                java.util.Arrays.fill(base, 7001, 7004, (byte) 0);
                java.util.Arrays.fill(base, 7500, 7524, (byte) 0);
                // The trim's partial sectors are left as they were; its whole sectors read as zeros on this disk.
                java.util.Arrays.fill(base, 9216, 10752, (byte) 0);
                assertArrayEquals(base, toArray(read(disk, 0, 32)), "blockSizes=" + blockSizes);
                c.request(0, READ, 8, 1234, 777);
                assertArrayEquals(java.util.Arrays.copyOfRange(base, 1234, 1234 + 777), c.simpleReply(777).payload());
                c.request(0, READ, 9, 2049, 1);
                assertArrayEquals(new byte[] {(byte) 0xA5}, c.simpleReply(1).payload());
                c.request(0, READ, 10, 1, 16 * MIB - 1); // h.pread(1, size - 1)
                byte[] all = c.simpleReply(16 * MIB - 1).payload();
                assertArrayEquals(java.util.Arrays.copyOfRange(base, 1, base.length),
                        java.util.Arrays.copyOf(all, base.length - 1));
                c.request(0, Command.CACHE.code, 11, 3, 5000);
                assertEquals(0, c.simpleReply(0).error(), "cache at an unaligned offset");
                c.request(0, WRITE, 12, 16 * MIB - 1, 1, new byte[] {7}); // the last byte
                assertEquals(0, c.simpleReply(0).error());
                c.request(0, READ, 13, 16 * MIB - 3, 3);
                assertArrayEquals(new byte[] {0, 0, 7}, c.simpleReply(3).payload());
                c.request(0, WRITE, 14, 16 * MIB - 1, 2, new byte[2]);
                assertEquals(NbdError.ENOSPC.code, c.simpleReply(0).error(), "one byte past the end");
            }
        }
    }

    @Test
    void alignedWritesRacingAReadModifyWriteOfTheirSectorAreNotLost() throws Exception {
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(4);
        try {
            // Every read and write of the disk runs after a random delay, so without ordering an aligned write
            // would often land between the read and the write of a read-modify-write and be undone by it.
            MemoryDisk slow = jittered(timer, 12, 5);
            server.disk("mem", Disk.of(slow));
            int sectors = 200;
            try (RawClient a = client("mem", false, true); RawClient b = client("mem", false, true)) {
                for (int i = 0; i < sectors; i++) {
                    byte[] whole = new byte[512];
                    java.util.Arrays.fill(whole, (byte) (i % 100 + 1));
                    if (i % 2 == 0) { // vary which one the server sees first
                        a.request(0, WRITE, i, i * 512L + 7, 1, new byte[] {(byte) 0xEE});
                        b.request(0, WRITE, i, i * 512L, 512, whole);
                    } else {
                        b.request(0, WRITE, i, i * 512L, 512, whole);
                        a.request(0, WRITE, i, i * 512L + 7, 3, new byte[] {(byte) 0xEE, (byte) 0xEE, (byte) 0xEE});
                    }
                }
                for (int i = 0; i < sectors; i++) {
                    assertEquals(0, a.simpleReply(0).error());
                    assertEquals(0, b.simpleReply(0).error());
                }
            }
            for (int i = 0; i < sectors; i++) {
                MemorySegment sector = slow.content().asSlice(i * 512L, 512);
                int width = i % 2 == 0 ? 1 : 3;
                boolean patched = sector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 7) == (byte) 0xEE;
                for (int j = 0; j < 512; j++) {
                    byte expected = patched && j >= 7 && j < 7 + width ? (byte) 0xEE : (byte) (i % 100 + 1);
                    assertEquals(expected, sector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, j),
                            "sector " + i + " byte " + j + ": the outcome of neither order");
                }
            }
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void concurrentUnalignedWritesToOneSectorLoseNothing() throws Exception {
        try (RawClient a = client("mem", false, false); RawClient b = client("mem", false, false)) {
            for (int i = 0; i < 32; i++) { // 64 writes of 8 bytes each into sector 0, from two connections
                RawClient c = i % 2 == 0 ? a : b;
                byte[] bytes = new byte[8];
                java.util.Arrays.fill(bytes, (byte) (i + 1));
                c.request(0, WRITE, i, i * 8L, 8, bytes);
                c.request(0, WRITE, 100 + i, 256 + i * 8L, 8, bytes);
            }
            for (int i = 0; i < 32; i++) {
                assertEquals(0, a.simpleReply(0).error());
                assertEquals(0, b.simpleReply(0).error());
            }
            MemorySegment sector = read(disk, 0, 1);
            for (int i = 0; i < 32; i++) {
                for (int j = 0; j < 8; j++) {
                    assertEquals(i + 1, sector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i * 8L + j));
                    assertEquals(i + 1, sector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 256 + i * 8L + j));
                }
            }
        }
    }

    @Test
    void repliesComeOutOfOrderWhenTheDiskCompletesOutOfOrder() throws Exception {
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(4);
        try {
            server.disk("mem", Disk.of(jittered(timer, 8, 20)));
            try (RawClient c = client("mem", true, false)) {
                for (int i = 0; i < 100; i++) {
                    c.request(0, READ, i, i * 512L, 512);
                }
                Set<Long> cookies = new HashSet<>();
                boolean outOfOrder = false;
                long last = -1;
                for (int i = 0; i < 100; i++) {
                    Reply r = c.chunk();
                    assertTrue(cookies.add(r.cookie()));
                    outOfOrder |= r.cookie() < last;
                    last = r.cookie();
                }
                assertEquals(100, cookies.size());
                assertTrue(outOfOrder, "100 reads with random completion delays came back in order");
            }
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void blockStatusReportsBaseAllocation() throws Exception {
        Disk file = server.fileDisk("big", "bs.img", 4L * MIB);
        org.diskhost.testkit.DiskAssertions.write(file, 2048, org.diskhost.testkit.DiskAssertions.pattern(MIB, 1));
        file.syncCache().join();
        try (RawClient c = client("big", true, true)) {
            c.request(0, Command.BLOCK_STATUS.code, 1, 0, 4 * MIB);
            Reply r = c.chunk();
            assertEquals(Protocol.Chunk.BLOCK_STATUS.code, r.chunkType());
            ByteBuffer p = ByteBuffer.wrap(r.payload());
            assertEquals(Protocol.BASE_ALLOCATION_ID, p.getInt());
            assertEquals(MIB, p.getInt());
            assertEquals(Protocol.STATE_HOLE | Protocol.STATE_ZERO, p.getInt());
            assertEquals(MIB, p.getInt());
            assertEquals(0, p.getInt());
            assertEquals(2 * MIB, p.getInt());
            assertEquals(Protocol.STATE_HOLE | Protocol.STATE_ZERO, p.getInt());
            assertEquals(0, p.remaining());
            c.request(Protocol.CMD_FLAG_REQ_ONE, Command.BLOCK_STATUS.code, 2, MIB + 4096, 4096);
            ByteBuffer one = ByteBuffer.wrap(c.chunk().payload());
            one.getInt();
            assertEquals(4096, one.getInt(), "REQ_ONE: one descriptor, no longer than asked");
            assertEquals(0, one.getInt());
            assertEquals(0, one.remaining());
            c.request(0, Command.BLOCK_STATUS.code, 3, MIB - 3, 10); // odd offset and length across the boundary
            ByteBuffer odd = ByteBuffer.wrap(c.chunk().payload());
            assertEquals(Protocol.BASE_ALLOCATION_ID, odd.getInt());
            assertEquals(3, odd.getInt(), "the hole up to 1 MiB, from the odd offset asked");
            assertEquals(Protocol.STATE_HOLE | Protocol.STATE_ZERO, odd.getInt());
            assertEquals(7, odd.getInt(), "data, no further than asked");
            assertEquals(0, odd.getInt());
            assertEquals(0, odd.remaining());
        }
    }

    @Test
    void flushTrimCacheAndWriteZeroesSucceed() throws Exception {
        memory.content().copyFrom(MemorySegment.ofArray(random(65536, 9)));
        try (RawClient c = client("mem", true, true)) {
            c.request(0, Command.FLUSH.code, 1, 0, 0);
            assertEquals(Protocol.Chunk.NONE.code, c.chunk().chunkType());
            c.request(0, Command.CACHE.code, 2, 0, 3 * MIB);
            assertEquals(Protocol.Chunk.NONE.code, c.chunk().chunkType());
            c.request(Protocol.CMD_FLAG_FUA, Command.TRIM.code, 3, 0, 8192);
            assertEquals(Protocol.Chunk.NONE.code, c.chunk().chunkType());
            c.request(Protocol.CMD_FLAG_FAST_ZERO, Command.WRITE_ZEROES.code, 4, 8192, 8192);
            assertEquals(Protocol.Chunk.NONE.code, c.chunk().chunkType());
            c.request(Protocol.CMD_FLAG_NO_HOLE, Command.WRITE_ZEROES.code, 5, 16384, 3 * MIB);
            assertEquals(Protocol.Chunk.NONE.code, c.chunk().chunkType());
        }
        assertTrue(isZero(read(disk, 0, 32 + 6144)), "trimmed and zeroed");
    }

    @Test
    void badFramingClosesOnlyThatConnection() throws Exception {
        try (RawClient good = client("mem", false, false); RawClient bad = client("mem", false, false)) {
            bad.write(ByteBuffer.allocate(28).putInt(0xdeadbeef).position(28).flip());
            assertTrue(bad.closedByServer(), "bad magic ends the connection");
            good.request(0, READ, 1, 0, 512);
            assertEquals(0, good.simpleReply(512).error(), "the other connection is unaffected");
        }
    }

    @Test
    void handshakeErrorsAreOptionErrors() throws Exception {
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.option(Option.LIST.code, new byte[0]);
            Set<String> names = new HashSet<>();
            RawClient.OptionReply r;
            while ((r = c.optionReply()).type() == OptionReply.SERVER.code) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                byte[] name = new byte[b.getInt()];
                b.get(name);
                names.add(new String(name));
            }
            assertEquals(OptionReply.ACK.code, r.type());
            assertEquals(Set.of("mem", "ro"), names, "'big' has no disk yet");
            c.option(Option.LIST.code, new byte[3]);
            assertEquals(OptionReply.ERR_INVALID.code, c.optionReply().type());
            c.option(Option.INFO.code, RawClient.goData("nope"));
            RawClient.OptionReply unknown = c.optionReply();
            assertEquals(OptionReply.ERR_UNKNOWN.code, unknown.type());
            assertTrue(unknown.text().contains("nope"));
            c.option(Option.SET_META_CONTEXT.code, RawClient.metaData("mem", Protocol.BASE_ALLOCATION));
            assertEquals(OptionReply.ERR_INVALID.code, c.optionReply().type(), "needs structured replies first");
            c.option(Option.STRUCTURED_REPLY.code, new byte[1]);
            assertEquals(OptionReply.ERR_INVALID.code, c.optionReply().type());
            c.option(999, new byte[5]);
            assertEquals(OptionReply.ERR_UNSUP.code, c.optionReply().type());
            c.option(Option.STARTTLS.code, new byte[0]);
            assertEquals(OptionReply.ERR_UNSUP.code, c.optionReply().type());
            c.option(Option.GO.code, new byte[] {0, 0, 0, 9, 'x'});
            assertEquals(OptionReply.ERR_INVALID.code, c.optionReply().type(), "name length beyond the data");
            c.option(Option.INFO.code, RawClient.goData("mem", Protocol.Info.NAME.code,
                    Protocol.Info.DESCRIPTION.code, Protocol.Info.BLOCK_SIZE.code));
            Set<Integer> infos = new HashSet<>();
            while ((r = c.optionReply()).type() == OptionReply.INFO.code) {
                infos.add((int) ByteBuffer.wrap(r.data()).getShort());
            }
            assertEquals(OptionReply.ACK.code, r.type());
            assertEquals(Set.of(0, 1, 2, 3), infos);
            c.option(Option.ABORT.code, new byte[0]);
            assertEquals(OptionReply.ACK.code, c.optionReply().type());
            assertTrue(c.closedByServer());
        }
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.option(Option.EXPORT_NAME.code, "nope".getBytes());
            assertTrue(c.closedByServer(), "EXPORT_NAME cannot report an error: the server closes");
        }
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.write(ByteBuffer.allocate(16).putLong(Protocol.IHAVEOPT).putInt(Option.INFO.code)
                    .putInt(Integer.MAX_VALUE).flip());
            assertTrue(c.closedByServer(), "an absurd option length ends the connection");
        }
        try (RawClient c = RawClient.connect(server.socket)) {
            c.read(18);
            assertTrue(c.closedByServer(), "a silent client is closed after the handshake timeout");
        }
    }

    @Test
    void listMetaContextOffersBaseAllocation() throws Exception {
        try (RawClient c = RawClient.connect(server.socket).greet()) {
            c.option(Option.STRUCTURED_REPLY.code, new byte[0]);
            assertEquals(OptionReply.ACK.code, c.optionReply().type());
            c.option(Option.LIST_META_CONTEXT.code, RawClient.metaData("mem"));
            RawClient.OptionReply context = c.optionReply();
            assertEquals(OptionReply.META_CONTEXT.code, context.type());
            assertTrue(context.text().endsWith(Protocol.BASE_ALLOCATION));
            assertEquals(OptionReply.ACK.code, c.optionReply().type());
            c.option(Option.LIST_META_CONTEXT.code, RawClient.metaData("mem", "qemu:dirty-bitmap:x"));
            assertEquals(OptionReply.ACK.code, c.optionReply().type(), "unknown namespaces match nothing");
        }
    }

    @Test
    void aRemovedDiskClosesItsConnectionsAndLeavesTheList() throws Exception {
        try (RawClient c = client("mem", false, false)) {
            server.server.removeDisk("mem");
            assertTrue(c.closedByServer());
        }
        assertTrue(server.server.find("mem").isEmpty());
    }

    @Test
    void connectionsBeyondTheLimitAreClosed() throws Exception {
        server.close();
        server = TestServer.start(dir, Map.of("maxConnections", 2));
        server.disk("mem", disk);
        try (RawClient a = client("mem", false, false); RawClient b = client("mem", false, false);
                RawClient c = RawClient.connect(server.socket)) {
            assertTrue(c.closedByServer());
            a.request(0, READ, 1, 0, 512);
            assertEquals(0, a.simpleReply(512).error());
        }
    }

    private static byte[] toArray(MemorySegment s) {
        return s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private static boolean isZero(MemorySegment s) {
        return org.diskhost.testkit.DiskAssertions.isZero(s);
    }
}
