package org.diskhost.backend.blob;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.fails;
import static org.diskhost.testkit.DiskAssertions.failsWith;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.UnmapBehavior;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.testkit.DiskAssertions;
import org.diskhost.testkit.Nginx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blob disks over a real nginx: content, formats, redirects, https trust, and the errors users meet. */
class BlobDiskTest {
    private static final int SIZE = 1 << 20;

    @TempDir
    static Path dir;
    static Path root;
    static byte[] content;
    static Nginx http;
    static Nginx https;

    @BeforeAll
    static void serve() throws Exception {
        root = Files.createDirectories(dir.resolve("www"));
        content = BlobDisks.randomFile(root.resolve("disk.img"), SIZE, 2);
        BlobDisks.fixedVhd(root.resolve("disk.img"), root.resolve("disk.vhd"));
        org.diskhost.testkit.ExternalTools.ok(dir, "qemu-img", "convert", "-f", "raw", "-O", "vpc",
                root.resolve("disk.img").toString(), root.resolve("dynamic.vhd").toString());
        // 1 MiB + 100 bytes: the trailing partial sector is not part of a flat disk.
        Files.write(root.resolve("odd.img"), Arrays.copyOf(content, SIZE + 100));
        BlobDisks.selfSigned(dir);
        StringBuilder redirects = new StringBuilder();
        for (int i = 1; i <= 5; i++) { // a1 takes 5 redirects to the disk, b1 takes 6
            redirects.append("location = /a").append(i).append(" { return 302 ")
                    .append(i < 5 ? "/a" + (i + 1) : "/disk.img").append("; }\n");
        }
        for (int i = 1; i <= 6; i++) {
            redirects.append("location = /b").append(i).append(" { return 302 ")
                    .append(i < 6 ? "/b" + (i + 1) : "/disk.img").append("; }\n");
        }
        redirects.append("location = /nohead.img { if ($request_method = HEAD) { return 403; } "
                + "rewrite ^ /disk.img break; }\n");
        http = Nginx.serving(root).config(redirects.toString()).start(dir);
        https = Nginx.serving(root).tls(dir.resolve("cert.pem"), dir.resolve("key.pem"))
                .config("location = /tohttp.img { return 302 " + http.url("/disk.img") + "; }\n"
                        + "location = /tohttps.img { return 302 /disk.img; }")
                .start(dir);
    }

    @AfterAll
    static void stop() {
        if (http != null) {
            http.close();
        }
        if (https != null) {
            https.close();
        }
    }

    private static Map<String, Object> settings(Object... pairs) {
        Map<String, Object> s = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            s.put((String) pairs[i], pairs[i + 1]);
        }
        return s;
    }

    private static MemorySegment whole() {
        return MemorySegment.ofArray(content);
    }

    @Test
    void aFlatBlobIsTheDiskWithTheReferencesProperties() {
        try (var opened = BlobDisks.opened(settings("url", http.url("/odd.img").toString()))) {
            Disk disk = opened.disk();
            assertEquals(SIZE / 512, disk.sectorCount(), "a trailing partial sector is not part of the disk");
            assertEquals(512, disk.sectorSize());
            assertEquals(4096, disk.physicalSectorSize());
            assertTrue(disk.isReadOnly());
            assertFalse(disk.isFuaRespected());
            assertEquals(UnmapBehavior.IGNORED, disk.unmapBehavior());
            assertTrue(disk.diskId().isEmpty());
            assertEquals("blob", disk.diskType());
            assertSameBytes(whole(), read(disk, 0, SIZE / 512), "the whole disk in one read");
            failsWith(DiskError.IllegalBlock.class, disk.readVectored(
                    RequestBuffers.of(MemorySegment.ofArray(new byte[1024]), true), SIZE / 512 - 1));
            failsWith(DiskError.ReadOnly.class, disk.syncCache()); // as the reference
        }
    }

    @Test
    void largeReadsAreSplitIntoParallelRangesAndStillExact() {
        try (var opened = BlobDisks.opened(settings("url", http.url("/disk.img").toString(),
                "chunkSize", "8 KiB", "connections", 4))) {
            Disk disk = opened.disk();
            assertSameBytes(whole(), read(disk, 0, SIZE / 512), "1 MiB in 128 ranges");
            assertSameBytes(whole().asSlice(512 * 7, 512 * 33), read(disk, 7, 33), "unaligned to chunks");
            Object requests = InspectTree.of(disk).get("requests");
            assertTrue(((Number) requests).longValue() >= 128 + 1, "requests: " + requests);
        }
    }

    @Test
    void aFixedVhdServesItsDataNeverTheFooterAndItsUniqueIdIsTheDiskId() throws Exception {
        byte[] vhd = Files.readAllBytes(root.resolve("disk.vhd"));
        String url = http.url("/disk.vhd").toString();
        try (var opened = BlobDisks.opened(settings("url", url, "format", "vhd1"))) {
            Disk disk = opened.disk();
            assertEquals(SIZE / 512, disk.sectorCount());
            assertSameBytes(whole(), read(disk, 0, SIZE / 512), "the VHD's data");
            assertArrayEquals(Arrays.copyOfRange(vhd, vhd.length - 512 + 68, vhd.length - 512 + 84),
                    disk.diskId().orElseThrow().bytes(), "the footer's unique id as stored");
            failsWith(DiskError.IllegalBlock.class, disk.readVectored(
                    RequestBuffers.of(MemorySegment.ofArray(new byte[512]), true), SIZE / 512)); // the footer
        }
    }

    @Test
    void vhd1RefusesWhatTheVhd1KindRefuses() {
        String raw = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "format", "vhd1"));
        assertTrue(raw.startsWith("disk 'test', kind 'blob': " + http.url("/disk.img")), raw);
        assertTrue(raw.contains("no VHD footer: the cookie is"), raw);
        String dynamic = BlobDisks.failure(settings("url", http.url("/dynamic.vhd").toString(), "format", "vhd1"));
        assertTrue(dynamic.contains("a dynamic VHD, not a fixed one"), dynamic);
        String odd = BlobDisks.failure(settings("url", http.url("/odd.img").toString(), "format", "vhd1"));
        assertTrue(odd.contains("a fixed VHD's length is a multiple of 512 bytes"), odd);
    }

    @Test
    void redirectsAreFollowedAtMostFiveTimesAndResolvedOnce() {
        BlobOptions options = BlobOptions.parse(org.diskhost.api.resolve.Settings.of("test", "blob",
                settings("url", http.url("/a1").toString()), dir), false);
        BlobDisk disk = BlobDisk.open("test", options, RequestHook.NONE, BlobWrites.Factory.READ_ONLY).join();
        try {
            assertEquals(http.url("/disk.img"), disk.blob().uri(), "the final URL");
        } finally {
            disk.close();
        }
        String tooMany = BlobDisks.failure(settings("url", http.url("/b1").toString()));
        assertTrue(tooMany.contains("more than 5 redirects"), tooMany);
    }

    @Test
    void aRefusedHeadFallsBackToARangedGet() {
        try (var opened = BlobDisks.opened(settings("url", http.url("/nohead.img").toString()))) {
            Disk disk = opened.disk();
            assertEquals(SIZE / 512, disk.sectorCount());
            assertSameBytes(whole().asSlice(0, 4096), read(disk, 0, 8), "data");
        }
    }

    @Test
    void httpsNeedsTrustAndNeverRedirectsToHttp() {
        String ca = dir.resolve("cert.pem").toString();
        String url = https.url("/tohttps.img").toString();
        try (var opened = BlobDisks.opened(settings("url", url, "caFile", ca))) {
            Disk disk = opened.disk();
            assertSameBytes(whole().asSlice(0, 8192), read(disk, 0, 16), "over https");
        }
        String untrusted = BlobDisks.failure(settings("url", https.url("/disk.img").toString(), "retries", 0));
        assertTrue(untrusted.contains("PKIX") || untrusted.contains("certificat"), untrusted);
        String downgrade = BlobDisks.failure(settings("url", https.url("/tohttp.img").toString(), "caFile", ca));
        assertTrue(downgrade.contains("redirected from https to " + http.url("/disk.img")), downgrade);
    }

    @Test
    void readaheadServesASequentialReaderFromBlocksFetchedAhead() {
        try (var opened = BlobDisks.opened(settings("url", http.url("/disk.img").toString(),
                "readahead", "256 KiB", "chunkSize", "64 KiB"))) {
            Disk disk = opened.disk();
            for (long sector = 0; sector < SIZE / 512; sector += 8) {
                assertSameBytes(whole().asSlice(sector * 512, 4096), read(disk, sector, 8), "sector " + sector);
            }
            InspectTree tree = InspectTree.of(disk);
            long requests = ((Number) tree.get("requests")).longValue();
            // 256 reads of 4 KiB: one alone, then 16 blocks of 64 KiB (and the HEAD).
            assertTrue(requests <= 1 + 1 + SIZE / (64 << 10), "requests: " + requests);
            assertTrue(((Number) tree.get("readahead_hits")).longValue() >= 200, "hits: " + tree.get("readahead_hits"));
            assertTrue(((Number) tree.get("readahead_held_bytes")).longValue() <= 512 << 10, "the bound");
        }
    }

    @Test
    void aBlobThatChangesUnderTheDiskFailsReadsInsteadOfMixingData() throws Exception {
        Path changing = root.resolve("changing.img");
        Files.write(changing, content);
        try (var opened = BlobDisks.opened(settings("url", http.url("/changing.img").toString()))) {
            Disk disk = opened.disk();
            read(disk, 0, 8);
            Files.setLastModifiedTime(changing, FileTime.from(Instant.now().plusSeconds(3600))); // a new ETag
            DiskError error = fails(disk.readVectored(RequestBuffers.of(DiskAssertions.allocate(4096), true), 0));
            assertTrue(error instanceof DiskError.Io, "" + error);
            String message = ((DiskError.Io) error).cause().getMessage();
            assertTrue(message.contains("the blob changed since the disk was opened (HTTP 412: If-Match \""),
                    message);
        }
    }

    @Test
    void missingBlobsAndUnreachableServersAreClearErrors() throws Exception {
        String missing = BlobDisks.failure(settings("url", http.url("/none.img").toString()));
        assertTrue(missing.startsWith("disk 'test', kind 'blob': " + http.url("/none.img")), missing);
        assertTrue(missing.contains("HTTP 404 (no such blob)"), missing);
        int closed;
        try (var s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String refused = BlobDisks.failure(settings("url", "http://127.0.0.1:" + closed + "/x.img?sig=SECRET",
                "retries", 2, "retryDelay", "10ms"));
        assertTrue(refused.contains("cannot connect") && refused.contains("(after 2 retries)"), refused);
        assertFalse(refused.contains("SECRET"), "the query (a SAS token) is never shown: " + refused);
    }

    @Test
    void badSettingsNameTheSetting() {
        String scheme = BlobDisks.failure(settings("url", "ftp://127.0.0.1/x"));
        assertTrue(scheme.contains("setting 'url': must be an http or https URL"), scheme);
        String format = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "format", "qcow2"));
        assertTrue(format.contains("setting 'format': must be \"flat\" or \"vhd1\""), format);
        String writable = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "readOnly", false));
        assertTrue(writable.contains("setting 'readOnly': writable blob disks are not supported for a plain HTTP "
                + "blob"), writable);
        String header = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "headers",
                Map.of("Range", "bytes=0-1")));
        assertTrue(header.contains("setting 'headers': the disk sets Range itself"), header);
        String chunk = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "chunkSize", 1000));
        assertTrue(chunk.contains("setting 'chunkSize'"), chunk);
        String readahead = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "readahead", "2 GiB"));
        assertTrue(readahead.contains("setting 'readahead': must be from 0 (none) to 1 GiB"), readahead);
        String unknown = BlobDisks.failure(settings("url", http.url("/disk.img").toString(), "path", "x"));
        assertTrue(unknown.contains("setting 'path': unknown setting for kind 'blob'"), unknown);
    }
}
