package org.diskhost.backend.blob;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.testkit.DiskConformance;
import org.diskhost.testkit.Nginx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The shared conformance suite (its read side: blob disks are read-only) over blobs that a real nginx serves. */
class BlobDiskConformanceTest {
    @TempDir
    static Path dir;
    static Nginx http;
    static Nginx https;

    @BeforeAll
    static void serve() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        BlobDisks.randomFile(root.resolve("disk.img"), 1 << 20, 1);
        BlobDisks.fixedVhd(root.resolve("disk.img"), root.resolve("disk.vhd"));
        BlobDisks.selfSigned(dir);
        http = Nginx.serving(root).config("location = /moved.img { return 302 /disk.img; }").start(dir);
        https = Nginx.serving(root).tls(dir.resolve("cert.pem"), dir.resolve("key.pem")).start(dir);
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

    @Nested
    class Flat extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", http.url("/disk.img").toString()));
        }
    }

    @Nested
    class Vhd1 extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", http.url("/disk.vhd").toString(), "format", "vhd1"));
        }
    }

    @Nested
    class Redirected extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", http.url("/moved.img").toString()));
        }
    }

    @Nested
    class HttpsWithItsCertificate extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", https.url("/disk.vhd").toString(), "format", "vhd1",
                    "caFile", dir.resolve("cert.pem").toString()));
        }
    }

    @Nested
    class SmallChunksOneConnection extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", http.url("/disk.img").toString(), "chunkSize", "4 KiB",
                    "connections", 1));
        }
    }

    @Nested
    class WithReadahead extends DiskConformance {
        @Override
        protected Disk openDisk() {
            return BlobDisks.resolve(Map.of("url", http.url("/disk.vhd").toString(), "format", "vhd1",
                    "readahead", "64 KiB", "chunkSize", "16 KiB"));
        }
    }
}
