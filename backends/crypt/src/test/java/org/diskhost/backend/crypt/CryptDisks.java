package org.diskhost.backend.crypt;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;

/** Resolves crypt chains in tests the way the host does: crypt, file and in-memory resolvers, by spec. */
final class CryptDisks {
    /** A test key whose halves differ: 0x00..0x3f. */
    static final byte[] KEY = new byte[64];

    static {
        for (int i = 0; i < KEY.length; i++) {
            KEY[i] = (byte) i;
        }
    }

    static final String KEY_HEX = HexFormat.of().formatHex(KEY);

    final MemoryDiskResolver memory = new MemoryDiskResolver();
    private final StandaloneResolution resolution;

    CryptDisks(Path base) {
        this.resolution = StandaloneResolution.of(base, new CryptDiskResolver(), new FileDiskResolver(), memory);
    }

    /** A crypt spec with the test key over {@code inner}. */
    static Map<String, Object> crypt(Map<String, Object> inner) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("kind", "crypt");
        spec.put("key", KEY_HEX);
        spec.put("disk", inner);
        return spec;
    }

    /** Resolves {@code spec}; the caller closes the chain. */
    ResolvedChain resolve(Map<String, ?> spec, boolean readOnly) {
        return resolution.resolve("test", spec, readOnly).join();
    }
}
