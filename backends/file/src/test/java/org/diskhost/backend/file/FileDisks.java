package org.diskhost.backend.file;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;

/** Resolves file disks in tests the way the host does, through the resolver and a minimal context. */
final class FileDisks {
    private FileDisks() {
    }

    static CompletableFuture<Disk> resolveAsync(Path base, Map<String, Object> settings, boolean readOnly) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", "file");
        DiskSpec spec = DiskSpec.parse("test", config, base);
        // As the chain builder does: a resolver may throw its error instead of returning it failed.
        FileDiskResolver resolver = new FileDiskResolver();
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
}
