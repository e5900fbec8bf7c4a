package org.diskhost.backend.vhd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.testkit.DiskAssertions;

/** Resolves vhd1 and vhd disks in tests the way the host does, through their resolvers and a minimal context. */
final class VhdDisks {
    private VhdDisks() {
    }

    static CompletableFuture<Disk> resolveAsync(String kind, Path base, Map<String, Object> settings,
            boolean readOnly) {
        Map<String, Object> config = new LinkedHashMap<>(settings);
        config.put("kind", kind);
        DiskSpec spec = DiskSpec.parse("test", config, base);
        DiskResolver resolver = switch (kind) {
            case "vhd1" -> new Vhd1DiskResolver();
            case "vhd" -> new VhdDiskResolver();
            default -> throw new IllegalArgumentException(kind);
        };
        // As the chain builder does: a resolver may throw its error instead of returning it failed.
        return CompletableFuture.completedFuture(spec).thenCompose(s -> resolver.resolve(s, new ResolveContext() {
            public String diskName() {
                return "test";
            }

            public boolean readOnly() {
                return readOnly;
            }

            public CompletableFuture<Disk> resolve(DiskSpec nested, boolean ro) {
                throw new UnsupportedOperationException("vhd disks have no nested disks");
            }
        }));
    }

    static Disk resolve(String kind, Path base, Map<String, Object> settings) {
        return resolveAsync(kind, base, settings, false).join();
    }

    /** The message of the failure of resolving, which must fail. */
    static String failure(String kind, Path base, Map<String, Object> settings) {
        try {
            resolveAsync(kind, base, settings, false).join().close();
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause().getMessage();
        }
        throw new AssertionError("resolving " + settings + " succeeded");
    }

    /** {@code length} bytes of a pattern that differs for each seed and does not repeat every 256 bytes. */
    static byte[] pattern(int length, long seed) {
        byte[] out = new byte[length];
        DiskAssertions.pattern(MemorySegment.ofArray(out), seed);
        return out;
    }

    static void write(Disk disk, long sector, byte[] data) {
        MemorySegment s = Arena.ofAuto().allocate(data.length, 4096);
        MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, data.length);
        DiskAssertions.write(disk, sector, s);
    }

    static byte[] read(Disk disk, long sector, int bytes) {
        return DiskAssertions.read(disk, sector, bytes / disk.sectorSize()).toArray(ValueLayout.JAVA_BYTE);
    }
}
