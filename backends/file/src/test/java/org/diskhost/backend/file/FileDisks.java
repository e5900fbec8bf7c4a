package org.diskhost.backend.file;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.nativeio.uring.Uring;
import org.diskhost.nativeio.uring.UringSupport;
import org.junit.jupiter.api.Assumptions;

/** Resolves file disks in tests the way the host does, through the resolver and a minimal context. */
final class FileDisks {
    private FileDisks() {
    }

    static CompletableFuture<Disk> resolveAsync(Path base, Map<String, Object> settings, boolean readOnly) {
        return resolveAsync(new FileDiskResolver(), base, settings, readOnly);
    }

    static CompletableFuture<Disk> resolveAsync(FileDiskResolver resolver, Path base, Map<String, Object> settings,
            boolean readOnly) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", "file");
        DiskSpec spec = DiskSpec.parse("test", config, base);
        // As the chain builder does: a resolver may throw its error instead of returning it failed.
        return CompletableFuture.completedFuture(spec).thenCompose(s -> resolver.resolve(s, new ResolveContext() {
            public String diskName() {
                return "test";
            }

            public boolean readOnly() {
                return readOnly;
            }

            public CompletableFuture<Disk> resolve(DiskSpec nested, boolean ro) {
                throw new UnsupportedOperationException("file disks have no nested disks");
            }
        }));
    }

    static Disk resolve(Path base, Map<String, Object> settings, boolean readOnly) {
        return resolveAsync(base, settings, readOnly).join();
    }

    /**
     * Whether io_uring works here. Where it does not, the calling test is skipped, except under {@code CI=true},
     * whose machines offer io_uring: there it fails.
     */
    static void assumeUring() {
        if (Uring.probe() instanceof UringSupport.Unavailable(String reason)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("io_uring is unavailable under CI=true: " + reason);
            }
            Assumptions.abort("io_uring is unavailable here: " + reason);
        }
    }
}
