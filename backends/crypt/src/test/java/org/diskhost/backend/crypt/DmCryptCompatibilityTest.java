package org.diskhost.backend.crypt;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A crypt disk over a file leaves in the file exactly what an independent XTS-AES-256 implementation produces for
 * the same key, sector by sector, with the sector number as the tweak: OpenSSL's, through node's {@code crypto}
 * module, run as a separate process per sector. That is dm-crypt's {@code aes-xts-plain64} format (512-byte
 * sectors), and with 4096-byte sectors its {@code iv_large_sectors} variant, whose tweak counts 4096-byte sectors.
 * ({@code openssl enc} cannot serve: OpenSSL 3 refuses XTS ciphers there.)
 */
class DmCryptCompatibilityTest {
    /** Reads stdin and writes its XTS-AES-256 encryption under the hex key argv[1] and the hex tweak argv[2]. */
    private static final String NODE_XTS = """
            const [key, tweak] = process.argv.slice(1);
            const cipher = require('crypto').createCipheriv('aes-256-xts', Buffer.from(key, 'hex'),
                Buffer.from(tweak, 'hex'));
            const input = [];
            process.stdin.on('data', chunk => input.push(chunk));
            process.stdin.on('end', () => {
              const data = Buffer.concat(input);
              process.stdout.write(Buffer.concat([cipher.update(data), cipher.final()]));
            });
            """;

    @TempDir
    Path dir;

    private static Optional<Path> node() {
        return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
                .map(d -> Path.of(d, "node"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** The tweak of {@code sector}: its number as a 128-bit little-endian integer, in hex. */
    private static String tweak(long sector) {
        ByteBuffer le = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, sector);
        return HexFormat.of().formatHex(le.array());
    }

    /** One sector through OpenSSL's XTS, in a node process of its own. */
    private static byte[] encryptWithNode(Path node, long sector, byte[] input) throws Exception {
        Process process = new ProcessBuilder(node.toString(), "-e", NODE_XTS, CryptDisks.KEY_HEX, tweak(sector))
                .start();
        CompletableFuture<byte[]> stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(input);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("node did not finish within 60 s");
        }
        assertEquals(0, process.exitValue(), () -> "node failed: "
                + new String(stderr.join(), StandardCharsets.UTF_8));
        return stdout.get(10, TimeUnit.SECONDS);
    }

    private static byte[] readAll(InputStream in) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("end of file at " + (position + buffer.position()));
            }
        }
        return buffer.array();
    }

    private static byte[] bytes(MemorySegment segment) {
        return segment.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /**
     * Writes three consecutive sectors at each of several places, the last beyond sector 2^32 (or 2^28 for 4 KiB
     * sectors, to stay within what ext4 allows for a sparse file), so every byte of the 64-bit sector number counts;
     * then compares the file's bytes with node's, sector by sector. And the other way: ciphertext that node made,
     * put into the file directly, reads back through the crypt disk as its plaintext.
     */
    @ParameterizedTest(name = "{0}-byte sectors")
    @CsvSource({"512, 3 TiB, 4294967301", "4096, 2 TiB, 268435465"})
    void theFileHoldsWhatOpenSslWritesForEachSector(int sectorSize, String fileSize, long farSector) throws Exception {
        ExternalTools.require("node"); // skips on a developer's machine without node; fails in CI
        Optional<Path> node = node();
        Path image = dir.resolve("crypt-" + sectorSize + ".img");
        Map<String, Object> file = Map.of("kind", "file", "path", image.toString(), "create", fileSize,
                "sectorSize", sectorSize);
        try (ResolvedChain chain = new CryptDisks(dir).resolve(CryptDisks.crypt(file), false);
                FileChannel raw = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Disk disk = chain.disk();
            for (long start : new long[] {0, 255, farSector}) {
                MemorySegment plaintext = pattern(3L * sectorSize, start);
                write(disk, start, plaintext);
                for (int i = 0; i < 3; i++) {
                    long sector = start + i;
                    byte[] expected = encryptWithNode(node.get(), sector,
                            bytes(plaintext.asSlice((long) i * sectorSize, sectorSize)));
                    assertSameBytes(MemorySegment.ofArray(expected),
                            MemorySegment.ofArray(readFully(raw, sector * sectorSize, sectorSize)),
                            "sector " + sector + " in the file against OpenSSL's");
                }
            }

            long sector = farSector + 10;
            byte[] plaintext = bytes(pattern(sectorSize, 77));
            raw.write(ByteBuffer.wrap(encryptWithNode(node.get(), sector, plaintext)), sector * sectorSize);
            assertSameBytes(MemorySegment.ofArray(plaintext), read(disk, sector, 1), "node's ciphertext, read back");
        }
    }
}
