package org.diskhost.backend.blockdevice;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.nativeio.uring.Uring;
import org.diskhost.nativeio.uring.UringSupport;
import org.junit.jupiter.api.Assumptions;

/** Resolves block disks in tests the way the host does, through the resolver. */
final class BlockDisks {
    private BlockDisks() {
    }

    /** The disk of kind {@code block} with {@code settings}, resolved by {@code resolver}. */
    static Disk resolve(BlockDiskResolver resolver, Path base, Map<String, Object> settings, boolean readOnly) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", BlockDiskResolver.KIND);
        try {
            return StandaloneResolution.of(base, resolver).resolve("test", config, readOnly).join().disk();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e; // the resolver's error, as the host logs it
        }
    }

    static Disk resolve(Path base, Map<String, Object> settings) {
        return resolve(new BlockDiskResolver(), base, settings, false);
    }

    /** Skips the calling test where io_uring is missing, except under {@code CI=true}, where it fails. */
    static void assumeUring() {
        if (Uring.probe() instanceof UringSupport.Unavailable(String reason)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("io_uring is unavailable under CI=true: " + reason);
            }
            Assumptions.abort("io_uring is unavailable here: " + reason);
        }
    }
}
