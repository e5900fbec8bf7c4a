package org.diskhost.backend.blob;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.isZero;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.succeeds;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.diskhost.api.Allocation;
import org.diskhost.api.AllocationExtent;
import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.testkit.Azurite;
import org.diskhost.testkit.DiskConformance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kind {@code blob} over Azure page and block blobs in a real Azurite, resolved as the host resolves them. */
class AzureBlobDiskTest {
    static final String C = "disks";
    static final long GIB = 1L << 30;
    static final AtomicInteger BLOBS = new AtomicInteger();

    @TempDir
    static Path dir;
    static Azurite azurite;

    @BeforeAll
    static void start() throws Exception {
        azurite = Azurite.start(dir);
        azurite.createContainer(C);
    }

    @AfterAll
    static void stop() throws Exception {
        if (azurite != null) {
            azurite.close();
        }
    }

    /** A new page blob of {@code size} bytes with seeded random data in its first {@code written} bytes. */
    static String pageBlob(long size, int written) throws Exception {
        String name = "page-" + BLOBS.incrementAndGet();
        azurite.createPageBlob(C, name, size);
        if (written > 0) {
            byte[] data = new byte[written];
            new Random(name.hashCode()).nextBytes(data);
            azurite.putPages(C, name, 0, data);
        }
        return name;
    }

    /** The settings of a Shared Key blob disk on {@code blob}, plus {@code more} (key, value, ...). */
    static Map<String, Object> sharedKey(String blob, Object... more) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("kind", "blob");
        settings.put("url", azurite.blob(C, blob).toString());
        settings.put("accountKey", Azurite.KEY);
        for (int i = 0; i < more.length; i += 2) {
            settings.put((String) more[i], more[i + 1]);
        }
        return settings;
    }

    static ResolvedChain resolve(String name, Map<String, Object> settings) {
        return StandaloneResolution.of(dir, new BlobDiskResolver()).resolve(name, settings, false).join();
    }

    static String failure(String name, Map<String, Object> settings) {
        CompletionException e = assertThrows(CompletionException.class, () -> resolve(name, settings).close());
        return e.getCause().getMessage();
    }

    /** The write side of the suite over a writable page blob, leased, with length polling. */
    @Nested
    class WritablePageBlob extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            return chainDisk(resolve("conformance", sharedKey(pageBlob(1 << 20, 64 << 10), "readOnly", false,
                    "resizePollInterval", "1s")));
        }
    }

    /** The read side over a page blob read with a SAS token in the URL. */
    @Nested
    class ReadOnlyPageBlobWithSas extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            String blob = pageBlob(1 << 20, 64 << 10);
            return chainDisk(resolve("sas", Map.of("kind", "blob", "url",
                    azurite.blob(C, blob) + "?" + azurite.sas(C, blob, "r", 10))));
        }
    }

    /** The write side with the SAS token in a file and no lease. */
    @Nested
    class WritablePageBlobWithSasFileNoLease extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            String blob = pageBlob(1 << 20, 0);
            Path sas = dir.resolve(blob + ".sas");
            Files.writeString(sas, azurite.sas(C, blob, "rw", 10) + "\n");
            return chainDisk(resolve("sasfile", Map.of("kind", "blob", "url", azurite.blob(C, blob).toString(),
                    "sasFile", sas.toString(), "readOnly", false, "lease", false)));
        }
    }

    /** The write side with readahead: every write and unmap must drop what was fetched ahead. */
    @Nested
    class WritablePageBlobWithReadahead extends DiskConformance {
        @Override
        protected Disk openDisk() throws Exception {
            return chainDisk(resolve("readahead", sharedKey(pageBlob(1 << 20, 64 << 10), "readOnly", false,
                    "readahead", "64 KiB", "chunkSize", "16 KiB")));
        }
    }

    @Test
    void writesAndUnmapsInvalidateTheReadahead() throws Exception {
        String blob = pageBlob(1 << 20, 1 << 20);
        try (ResolvedChain chain = resolve("ra", sharedKey(blob, "readOnly", false, "readahead", "256 KiB",
                "chunkSize", "64 KiB"))) {
            Disk disk = chain.disk();
            read(disk, 0, 8);
            read(disk, 8, 8); // sequential: 320 KiB now fetched ahead
            assertTrue(((Number) org.diskhost.api.inspect.InspectTree.of(disk).get("readahead_held_bytes"))
                    .longValue() > 0, "blocks fetched");
            MemorySegment data = pattern(8192, 11);
            write(disk, 200, data);
            assertSameBytes(data, read(disk, 200, 16), "the disk's own write, not the block fetched before it");
            read(disk, 16, 8);
            read(disk, 24, 8);
            succeeds(disk.unmap(256, 16, false));
            assertTrue(isZero(read(disk, 256, 16)), "the unmapped range reads as zeros");
            assertArrayEquals(azurite.read(C, blob, 0, 512 << 10), read(disk, 0, 1024).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void writesReachTheBlobAndMetadataSaysWhatAPageBlobIs() throws Exception {
        String blob = pageBlob(8 << 20, 0);
        try (ResolvedChain chain = resolve("w", sharedKey(blob, "readOnly", false))) {
            Disk disk = chain.disk();
            assertFalse(disk.isReadOnly());
            assertTrue(disk.isFuaRespected());
            assertEquals(UnmapBehavior.ZEROES, disk.unmapBehavior());
            assertEquals(16384, disk.sectorCount());
            // 5 MiB + 1 KiB from sector 3: more than one Put Page.
            MemorySegment data = pattern((5 << 20) + 1024, 7);
            write(disk, 3, data);
            succeeds(disk.syncCache());
            assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), azurite.read(C, blob, 3 * 512, data.byteSize()));
            assertSameBytes(data, read(disk, 3, data.byteSize() / 512), "read back");
        }
    }

    @Test
    void allocationComesFromGetPageRanges() throws Exception {
        String blob = pageBlob(4 << 20, 0);
        azurite.putPages(C, blob, 4096, new byte[8192]);
        azurite.putPages(C, blob, 1 << 20, pattern(512, 1).toArray(ValueLayout.JAVA_BYTE));
        // Read-only disks report it too (pinned to the blob they opened).
        try (ResolvedChain chain = resolve("ranges", sharedKey(blob))) {
            Disk disk = chain.disk();
            assertEquals(List.of(new AllocationExtent(8, Allocation.HOLE), new AllocationExtent(16, Allocation.DATA),
                    new AllocationExtent(2048 - 24, Allocation.HOLE), new AllocationExtent(1, Allocation.DATA),
                    new AllocationExtent(8192 - 2049, Allocation.HOLE)), succeeds(disk.allocation(0, 8192)));
            assertEquals(List.of(new AllocationExtent(4, Allocation.DATA), new AllocationExtent(6, Allocation.HOLE)),
                    succeeds(disk.allocation(20, 10)));
        }
        try (ResolvedChain chain = resolve("unmap", sharedKey(blob, "readOnly", false))) {
            Disk disk = chain.disk();
            succeeds(disk.unmap(8, 8, false));
            assertEquals(List.of(new AllocationExtent(16, Allocation.HOLE), new AllocationExtent(8, Allocation.DATA),
                    new AllocationExtent(8, Allocation.HOLE)), succeeds(disk.allocation(0, 32)));
            assertTrue(isZero(read(disk, 8, 8)));
            assertEquals(8192, azurite.pageRanges(C, blob, 0, 16384).getFirst()[0], "the SDK sees the hole too");
        }
    }

    @Test
    void aSecondWriterIsRefusedWhileTheFirstHoldsTheLease() throws Exception {
        String blob = pageBlob(1 << 20, 0);
        try (ResolvedChain first = resolve("first", sharedKey(blob, "readOnly", false, "leaseDuration", "15s"))) {
            assertTrue(azurite.properties(C, blob).endsWith(" leased"));
            String message = failure("second", sharedKey(blob, "readOnly", false));
            assertTrue(message.contains("second"), message);
            assertTrue(message.contains("LeaseAlreadyPresent") && message.contains("another writer holds a lease"),
                    message);
            // A reader is welcome.
            try (ResolvedChain reader = resolve("reader", sharedKey(blob))) {
                succeeds(reader.disk().readVectored(org.diskhost.api.buffers.RequestBuffers.of(
                        MemorySegment.ofArray(new byte[512]), true), 0));
            }
            write(first.disk(), 0, pattern(4096, 3));
        }
        assertTrue(azurite.properties(C, blob).endsWith(" available"), "released at close");
        resolve("again", sharedKey(blob, "readOnly", false)).close();
    }

    @Test
    void aResizeByAnotherClientReachesWaitResize() throws Exception {
        String blob = pageBlob(1 << 20, 4096);
        // Without a lease: Azure refuses Set Blob Properties on a leased blob to anyone without the lease id.
        try (ResolvedChain chain = resolve("resize", sharedKey(blob, "readOnly", false, "lease", false,
                "resizePollInterval", "200ms"))) {
            Disk disk = chain.disk();
            var waiting = disk.waitResize(2048);
            Thread.sleep(600);
            assertFalse(waiting.isDone());
            azurite.resize(C, blob, 3 << 20);
            assertEquals(6144, waiting.get(10, TimeUnit.SECONDS));
            assertEquals(6144, disk.sectorCount());
            // The grown part reads (as zeros) and takes writes; the old data is still there.
            assertTrue(isZero(read(disk, 6000, 144)));
            write(disk, 6143, pattern(512, 4));
            assertSameBytes(pattern(512, 4), read(disk, 6143, 1), "last sector");
            assertFalse(isZero(read(disk, 0, 8)));
        }
    }

    @Test
    void beyond4GiBOnASparsePageBlob() throws Exception {
        String blob = pageBlob(8 * GIB, 0);
        try (ResolvedChain chain = resolve("big", sharedKey(blob, "readOnly", false))) {
            Disk disk = chain.disk();
            long sector = (6 * GIB + 4096) / 512;
            MemorySegment data = pattern(64 << 10, 5);
            write(disk, sector, data);
            assertSameBytes(data, read(disk, sector, 128), "past 4 GiB");
            assertArrayEquals(data.toArray(ValueLayout.JAVA_BYTE), azurite.read(C, blob, sector * 512, 64 << 10));
            assertEquals(List.of(new AllocationExtent(8, Allocation.HOLE), new AllocationExtent(128, Allocation.DATA),
                    new AllocationExtent(64, Allocation.HOLE)), succeeds(disk.allocation(sector - 8, 200)));
        }
    }

    @Test
    void blockBlobsAndPlainReadOnlyDisksStayReadOnly() throws Exception {
        Path file = dir.resolve("block.img");
        byte[] content = pattern(64 << 10, 9).toArray(ValueLayout.JAVA_BYTE);
        Files.write(file, content);
        azurite.uploadBlockBlob(C, "block.img", file);
        String message = failure("block", sharedKey("block.img", "readOnly", false));
        assertTrue(message.contains("writable blob disks are not supported for an Azure BlockBlob"), message);
        try (ResolvedChain chain = resolve("block", sharedKey("block.img"))) {
            Disk disk = chain.disk();
            assertTrue(disk.isReadOnly());
            assertSameBytes(MemorySegment.ofArray(content), read(disk, 0, 128), "block blob");
            assertEquals(List.of(new AllocationExtent(128, Allocation.DATA)), succeeds(disk.allocation(0, 128)));
            failsWith(DiskError.ReadOnly.class, disk.writeVectored(org.diskhost.api.buffers.RequestBuffers.of(
                    MemorySegment.ofArray(new byte[512]), false), 0, false));
        }
        // A read-only page blob refuses writes (Disk stops them) and flush, as the reference's blob does.
        try (ResolvedChain chain = resolve("ro", sharedKey(pageBlob(1 << 20, 0)))) {
            assertTrue(chain.disk().isReadOnly());
            failsWith(DiskError.ReadOnly.class, chain.disk().syncCache());
        }
    }

    @Test
    void aWrongKeyIsAClearErrorWithoutTheKey() throws Exception {
        String blob = pageBlob(1 << 20, 0);
        String wrong = java.util.Base64.getEncoder().encodeToString(pattern(64, 11).toArray(ValueLayout.JAVA_BYTE));
        Map<String, Object> settings = sharedKey(blob);
        settings.put("accountKey", wrong);
        String message = failure("wrongkey", settings);
        assertTrue(message.contains("wrongkey") && message.contains("HTTP 403"), message);
        assertFalse(message.contains(wrong.substring(0, 10)), message);
    }

    @Test
    void badAzureSettingsNameTheDiskTheKindAndTheSetting() throws Exception {
        String blob = pageBlob(1 << 20, 0);
        Path sas = dir.resolve("bad.sas");
        Files.writeString(sas, "not a token with secret-stuff");
        Path keyFile = dir.resolve("key");
        Files.writeString(keyFile, Azurite.KEY);
        String url = azurite.blob(C, blob).toString();
        for (var c : List.of(
                new Object[] {sharedKey(blob, "leaseDuration", "10s"), "leaseDuration", "15 s to 60 s"},
                new Object[] {sharedKey(blob, "accountKeyFile", keyFile.toString()), "accountKeyFile", "not both"},
                new Object[] {sharedKey(blob, "accountKey", "%%%secret%%%"), "accountKey", "not base64"},
                new Object[] {sharedKey(blob, "accountKey", 12345), "accountKey", "must be a string"},
                new Object[] {Map.of("kind", "blob", "url", url, "sasFile", sas.toString()), "sasFile",
                    "does not hold a SAS token"},
                new Object[] {Map.of("kind", "blob", "url", "http://example.invalid/x.img", "accountKey", Azurite.KEY),
                    "account", "name the account"},
                new Object[] {Map.of("kind", "blob", "url", "http://127.0.0.1:1/x.img", "lease", false), "lease",
                    "Azure page blobs only"},
                new Object[] {sharedKey(blob, "resizePollInterval", "5ms"), "resizePollInterval", "at least 100 ms"})) {
            @SuppressWarnings("unchecked")
            Map<String, Object> settings = new LinkedHashMap<>((Map<String, Object>) c[0]);
            String message = failure("bad", settings);
            assertTrue(message.contains("bad") && message.contains("blob") && message.contains((String) c[1])
                    && message.contains((String) c[2]), message);
            assertFalse(message.contains("secret") || message.contains(Azurite.KEY.substring(0, 10))
                    || message.contains("12345"), message);
        }
        // Shared Key from a key file works as the key does.
        Map<String, Object> fromFile = sharedKey(blob);
        fromFile.remove("accountKey");
        fromFile.put("accountKeyFile", keyFile.toString());
        resolve("keyfile", fromFile).close();
    }
}
