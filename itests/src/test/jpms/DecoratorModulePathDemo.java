import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;

import org.diskhost.api.Disk;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.pr.ReservationType;
import org.diskhost.api.resolve.StandaloneResolution;

/**
 * Plain Java, no OSGi and no Configuration Admin: the decorator modules found by ServiceLoader build
 * delay > prwrap > striped > file from two files (given as arguments), write across both and read back.
 */
public class DecoratorModulePathDemo {
    public static void main(String[] args) throws Exception {
        StandaloneResolution resolution = StandaloneResolution.fromServiceLoader();
        Map<String, Object> spec = Map.of("kind", "delay", "readDelay", "1ms", "disk", Map.of("kind", "prwrap",
                "disk", Map.of("kind", "striped", "chunkSize", "4K", "members", List.of(
                        Map.of("kind", "file", "path", args[0], "create", "1 MiB"),
                        Map.of("kind", "file", "path", args[1], "create", "1 MiB")))));
        try (var chain = resolution.resolve("modular", spec, false).join()) {
            Disk disk = chain.disk();
            MemorySegment out = Arena.ofAuto().allocate(8192, 4096);
            for (int i = 0; i < 8192; i++) {
                out.set(ValueLayout.JAVA_BYTE, i, (byte) (i / 4096 + 1));
            }
            disk.writeVectored(RequestBuffers.of(out, false), 0, true).join();
            MemorySegment in = Arena.ofAuto().allocate(8192, 4096);
            disk.readVectored(RequestBuffers.of(in, true), 0).join();
            var pr = disk.pr().orElseThrow();
            pr.register(OptionalLong.empty(), 7, Optional.empty()).join();
            pr.reserve(7, ReservationType.WRITE_EXCLUSIVE).join();
            System.out.println("kinds: " + new TreeSet<>(resolution.kinds()));
            System.out.println("chain: " + chain.kinds());
            System.out.println("sectors: " + disk.sectorCount());
            System.out.println("round trip: " + (out.mismatch(in) == -1 ? "ok" : "MISMATCH"));
            System.out.println("reservation: " + pr.report().join().reservationType().orElseThrow());
        }
    }
}
