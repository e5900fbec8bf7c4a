package org.diskhost.backend.blob;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.testkit.ExternalTools;

/** Resolves blob disks in tests the way the host does, and makes the images they serve. */
final class BlobDisks {
    private BlobDisks() {
    }

    /** A disk closed by try-with-resources. */
    record Opened(Disk disk) implements AutoCloseable {
        @Override
        public void close() {
            disk.close();
        }
    }

    static CompletableFuture<Disk> resolveAsync(Map<String, Object> settings, boolean readOnly) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", "blob");
        return CompletableFuture.completedFuture(null).thenCompose(nothing -> {
            DiskSpec spec = DiskSpec.parse("test", config, Path.of("."));
            return new BlobDiskResolver().resolve(spec, new ResolveContext() {
                public String diskName() {
                    return "test";
                }

                public boolean readOnly() {
                    return readOnly;
                }

                public CompletableFuture<Disk> resolve(DiskSpec nested, boolean ro) {
                    throw new UnsupportedOperationException("blob disks have no nested disks");
                }
            });
        });
    }

    static Opened opened(Map<String, Object> settings) {
        return new Opened(resolve(settings));
    }

    static Disk resolve(Map<String, Object> settings) {
        return resolveAsync(settings, false).join();
    }

    /** The message of the failure of resolving {@code settings}. */
    static String failure(Map<String, Object> settings) {
        try {
            Disk disk = resolve(settings);
            disk.close();
            throw new AssertionError("the disk opened: " + settings);
        } catch (CompletionException e) {
            return e.getCause().getMessage();
        }
    }

    /** A file of {@code size} random bytes (seeded), returned with its content. */
    static byte[] randomFile(Path file, int size, long seed) throws IOException {
        byte[] content = new byte[size];
        new Random(seed).nextBytes(content);
        Files.write(file, content);
        return content;
    }

    /** Converts the raw {@code source} to a fixed VHD as users make them: {@code qemu-img convert -O vpc}. */
    static void fixedVhd(Path source, Path vhd) throws IOException, InterruptedException {
        ExternalTools.ok(source.getParent(), "qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o",
                "subformat=fixed,force_size=on", source.toString(), vhd.toString());
    }

    /** A self-signed certificate for 127.0.0.1 ({@code cert.pem}, {@code key.pem} in {@code dir}). */
    static void selfSigned(Path dir) throws IOException, InterruptedException {
        ExternalTools.ok(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
    }
}
