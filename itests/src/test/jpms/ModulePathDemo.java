import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.StandaloneResolution;

/**
 * Plain Java, no OSGi: the API and the file backend as named modules on the module path, the file resolver found
 * by ServiceLoader. Writes a sector, reads it back, and prints what it saw.
 */
public class ModulePathDemo {
    public static void main(String[] args) throws Exception {
        StandaloneResolution resolution = StandaloneResolution.fromServiceLoader();
        try (var chain = resolution.resolve("modular", Map.of("kind", "file", "path", args[0], "create", "1 MiB"),
                false).join()) {
            Disk disk = chain.disk();
            MemorySegment out = Arena.ofAuto().allocate(512, 4096);
            for (int i = 0; i < 512; i++) {
                out.set(ValueLayout.JAVA_BYTE, i, (byte) i);
            }
            disk.writeVectored(RequestBuffers.of(out, false), 7, true).join();
            MemorySegment in = Arena.ofAuto().allocate(512, 4096);
            disk.readVectored(RequestBuffers.of(in, true), 7).join();
            System.out.println("api module: " + DiskResolver.class.getModule().getName());
            System.out.println("kinds: " + resolution.kinds());
            System.out.println("sectors: " + disk.sectorCount());
            System.out.println("round trip: " + (out.mismatch(in) == -1 ? "ok" : "MISMATCH"));
        }
    }
}
