package org.diskhost.backend.crypt;

import static org.diskhost.testkit.DiskAssertions.assertSameBytes;
import static org.diskhost.testkit.DiskAssertions.pattern;
import static org.diskhost.testkit.DiskAssertions.read;
import static org.diskhost.testkit.DiskAssertions.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.InspectTree;
import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.testkit.DiskAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kind {@code crypt} from its settings: the key sources, the errors, and key secrecy. */
class CryptDiskResolverTest {
    private static final Map<String, Object> MEMORY = Map.of("kind", "memory");

    @TempDir
    Path dir;

    private Map<String, Object> spec(Object... settings) {
        Map<String, Object> spec = new HashMap<>();
        spec.put("kind", "crypt");
        spec.put("disk", MEMORY);
        for (int i = 0; i < settings.length; i += 2) {
            spec.put((String) settings[i], settings[i + 1]);
        }
        return spec;
    }

    private static ResolveError.ParseError parseError(CryptDisks disks, Map<String, Object> spec) {
        CompletionException failure = assertThrows(CompletionException.class, () -> disks.resolve(spec, false));
        ResolveException e = assertInstanceOf(ResolveException.class, failure.getCause());
        return assertInstanceOf(ResolveError.ParseError.class, e.error());
    }

    private Path keyFile(byte[] content) throws Exception {
        return Files.write(dir.resolve("disk.key"), content);
    }

    @Test
    void theKeyComesFromHexOrFromAKeyFileAndBothGiveTheSameDisk() throws Exception {
        CryptDisks disks = new CryptDisks(dir);
        MemorySegment data = pattern(4 * 512, 1);
        MemorySegment viaHex;
        try (ResolvedChain chain = disks.resolve(spec("key", CryptDisks.KEY_HEX), false)) {
            write(chain.disk(), 0, data);
            viaHex = disks.memory.last().content().asSlice(0, 4 * 512);
        }
        keyFile(CryptDisks.KEY);
        try (ResolvedChain chain = disks.resolve(spec("keyFile", "disk.key"), false)) {
            write(chain.disk(), 0, data);
            assertSameBytes(viaHex, disks.memory.last().content().asSlice(0, 4 * 512), "same key, same ciphertext");
            assertSameBytes(data, read(chain.disk(), 0, 4), "round trip");
        }
        try (ResolvedChain chain = disks.resolve(spec("key", CryptDisks.KEY_HEX.toUpperCase()), false)) {
            assertEquals("crypt", chain.disk().diskType());
        }
    }

    @Test
    void theChainIsCryptOverTheDiskBelowAndHonoursReadOnly() {
        CryptDisks disks = new CryptDisks(dir);
        try (ResolvedChain chain = disks.resolve(spec("key", CryptDisks.KEY_HEX), true)) {
            assertEquals(List.of("crypt", "memory"), List.copyOf(chain.kinds()));
            assertTrue(chain.disk().isReadOnly());
            assertTrue(disks.memory.last().isReadOnly(), "the disk below is opened read-only too");
            DiskAssertions.failsWith(DiskError.ReadOnly.class,
                    chain.disk().writeVectored(RequestBuffers.of(DiskAssertions.allocate(512), false), 0, false));
        }
    }

    @Test
    void keyErrorsNameDiskKindAndSettingAndNeverOpenTheDiskBelow() throws Exception {
        CryptDisks disks = new CryptDisks(dir);
        String halfKey = CryptDisks.KEY_HEX.substring(0, 64);
        byte[] sameHalves = new byte[64];
        Arrays.fill(sameHalves, (byte) 0x5a);

        assertEquals("disk 'test', kind 'crypt', setting 'key': must be 64 bytes (the data key, then the tweak key), "
                + "got 32 bytes", parseError(disks, spec("key", halfKey)).message());
        assertEquals("disk 'test', kind 'crypt', setting 'key': the data key and the tweak key (the two 32-byte "
                + "halves) must differ",
                parseError(disks, spec("key", HexFormat.of().formatHex(sameHalves))).message());
        assertEquals("disk 'test', kind 'crypt', setting 'key': must be hex digits",
                parseError(disks, spec("key", "zz" + CryptDisks.KEY_HEX.substring(2))).message());
        // A key of digits only, written without quotes, is a JSON number: refused without showing it.
        assertEquals("disk 'test', kind 'crypt', setting 'key': must be a string of hex digits",
                parseError(disks, spec("key", new java.math.BigInteger("1234567890".repeat(12)))).message());
        assertEquals("disk 'test', kind 'crypt', setting 'keyFile': give either 'key' or 'keyFile', not both",
                parseError(disks, spec("key", CryptDisks.KEY_HEX, "keyFile", "disk.key")).message());
        assertEquals("disk 'test', kind 'crypt', setting 'key': missing: kind 'crypt' needs 'key' (128 hex digits) "
                + "or 'keyFile' (a file of 64 raw bytes)", parseError(disks, spec()).message());

        assertEquals("disk 'test', kind 'crypt', setting 'keyFile': no such file: " + dir.resolve("disk.key"),
                parseError(disks, spec("keyFile", "disk.key")).message());
        keyFile(Arrays.copyOf(CryptDisks.KEY, 65));
        assertEquals("disk 'test', kind 'crypt', setting 'keyFile': must be 64 bytes (the data key, then the tweak "
                + "key), got 65 bytes in " + dir.resolve("disk.key"), parseError(disks, spec("keyFile", "disk.key"))
                .message());
        keyFile(new byte[1 << 20]);
        assertTrue(parseError(disks, spec("keyFile", "disk.key")).message().contains("got 1048576 bytes"));
        keyFile(sameHalves);
        assertEquals("keyFile", parseError(disks, spec("keyFile", "disk.key")).setting());

        assertEquals(0, disks.memory.resolutions(), "a bad key must fail before the disk below is opened");
    }

    @Test
    void otherSettingErrorsAreParseErrorsToo() {
        CryptDisks disks = new CryptDisks(dir);
        ResolveError.ParseError unknown = parseError(disks, spec("key", CryptDisks.KEY_HEX, "cipher", "aes"));
        assertEquals("cipher", unknown.setting());
        assertEquals("unknown setting for kind 'crypt' (known: disk, key, keyFile)", unknown.problem());

        Map<String, Object> noDisk = spec("key", CryptDisks.KEY_HEX);
        noDisk.remove("disk");
        assertEquals("disk", parseError(disks, noDisk).setting());

        // An error of the disk below names its setting by its path in the chain.
        Map<String, Object> badBelow = spec("key", CryptDisks.KEY_HEX);
        badBelow.put("disk", Map.of("kind", "file", "path", "x.img", "create", "1 MiB", "sectorSize", 1000));
        ResolveError.ParseError below = parseError(disks, badBelow);
        assertEquals("disk.sectorSize", below.setting());
        assertEquals("file", below.kind());
    }

    /** A crypt chain can itself sit below another crypt: any chain composes. */
    @Test
    void cryptOverCryptComposes() {
        CryptDisks disks = new CryptDisks(dir);
        byte[] other = CryptDisks.KEY.clone();
        other[0] ^= 1;
        Map<String, Object> outer = spec("key", HexFormat.of().formatHex(other));
        outer.put("disk", CryptDisks.crypt(MEMORY));
        try (ResolvedChain chain = disks.resolve(outer, false)) {
            assertEquals(List.of("crypt", "memory"), List.copyOf(chain.kinds()));
            MemorySegment data = pattern(2048, 9);
            write(chain.disk(), 3, data);
            assertSameBytes(data, read(chain.disk(), 3, 4), "double encryption round trip");
        }
    }

    /** No key material in error messages, inspection, toString or anything logged while resolving and doing I/O. */
    @Test
    void keyMaterialAppearsNowhere() throws Exception {
        List<String> logged = new ArrayList<>();
        Handler capture = new Handler() {
            private final SimpleFormatter format = new SimpleFormatter();

            @Override
            public void publish(LogRecord record) {
                logged.add(format.format(record));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        Level level = root.getLevel();
        root.addHandler(capture);
        root.setLevel(Level.ALL);
        try {
            CryptDisks disks = new CryptDisks(dir);
            List<String> texts = new ArrayList<>();
            byte[] sameHalves = Arrays.copyOf(CryptDisks.KEY, 64);
            System.arraycopy(sameHalves, 0, sameHalves, 32, 32);
            for (Map<String, Object> bad : List.of(
                    spec("key", CryptDisks.KEY_HEX.substring(0, 100)),
                    spec("key", CryptDisks.KEY_HEX + "00"),
                    spec("key", HexFormat.of().formatHex(sameHalves)),
                    spec("key", CryptDisks.KEY_HEX.substring(0, 127) + "x"),
                    spec("key", CryptDisks.KEY_HEX, "keyFile", "k"),
                    spec("key", CryptDisks.KEY_HEX, "typo", 1))) {
                Throwable failure = assertThrows(CompletionException.class, () -> disks.resolve(bad, false));
                texts.add(String.valueOf(failure));
                texts.add(failure.getCause().getMessage());
            }
            keyFile(CryptDisks.KEY);
            for (Map<String, Object> good : List.of(spec("key", CryptDisks.KEY_HEX), spec("keyFile", "disk.key"))) {
                try (ResolvedChain chain = disks.resolve(good, false)) {
                    Disk disk = chain.disk();
                    write(disk, 0, pattern(1024, 1));
                    read(disk, 0, 2);
                    texts.add(InspectTree.of(disk).toString());
                    texts.add(disk.toString());
                    texts.add(disk.backend().toString());
                    texts.add(chain.toString());
                }
            }
            texts.addAll(logged);
            for (String text : texts) {
                Secrets.assertNoKeyMaterial(CryptDisks.KEY, text);
                Secrets.assertNoKeyMaterial(sameHalves, text);
            }
        } finally {
            root.removeHandler(capture);
            root.setLevel(level);
        }
    }
}
