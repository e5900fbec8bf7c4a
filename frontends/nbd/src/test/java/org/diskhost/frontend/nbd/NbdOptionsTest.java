package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.diskhost.api.DiskError;
import org.diskhost.frontend.nbd.NbdOptions.ExportConfig;
import org.junit.jupiter.api.Test;

class NbdOptionsTest {
    private static final Path BASE = Path.of("/data");

    private static String error(Map<String, Object> properties) {
        return assertThrows(IllegalArgumentException.class, () -> NbdOptions.parse(properties, BASE)).getMessage();
    }

    @Test
    void defaultsListenOnLoopbackAndExportEveryDisk() {
        NbdOptions o = NbdOptions.parse(Map.of(), BASE);
        assertEquals("127.0.0.1", o.listen().orElseThrow().getHostString());
        assertEquals(10809, o.listen().orElseThrow().getPort());
        assertEquals(Optional.empty(), o.unixSocket());
        assertEquals(Optional.empty(), o.exports());
        assertEquals(64 << 20, o.maxPayload());
        assertEquals(128L << 20, o.connectionMemory());
        assertEquals(Duration.ofSeconds(10), o.handshakeTimeout());
    }

    @Test
    void exportsSocketsAndSizesAreRead() {
        NbdOptions o = NbdOptions.parse(Map.of("listen", "none", "unixSocket", "run/nbd.sock", "exports",
                new String[] {"demo", "snap=demo; readOnly", "x = y"}, "maxPayload", "32 MiB", "connectionMemory",
                "1 GiB", "defaultExport", "demo"), BASE);
        assertEquals(Optional.empty(), o.listen());
        assertEquals(Path.of("/data/run/nbd.sock"), o.unixSocket().orElseThrow());
        assertEquals(List.of(new ExportConfig("demo", "demo", false), new ExportConfig("snap", "demo", true),
                new ExportConfig("x", "y", false)), o.exports().orElseThrow());
        assertEquals(32 << 20, o.maxPayload());
        assertEquals(List.of(new ExportConfig("a", "b", false), new ExportConfig("c", "c", true)),
                NbdOptions.parse(Map.of("exports", "a=b, c;ro"), BASE).exports().orElseThrow());
        assertTrue(NbdOptions.parse(Map.of("listen", "[::1]:0"), BASE).listen().orElseThrow().getAddress()
                .isLoopbackAddress(), "an IPv6 address in brackets");
    }

    @Test
    void badSettingsAreNamed() {
        assertTrue(error(Map.of("listen", "localhost")).startsWith("NBD server setting 'listen': must be host:port"));
        assertTrue(error(Map.of("listen", "127.0.0.1:99999")).contains("'listen'"));
        assertTrue(error(Map.of("listen", "none")).contains("would not be reachable"));
        assertTrue(error(Map.of("maxPayload", "lots")).startsWith("NBD server setting 'maxPayload': "));
        assertTrue(error(Map.of("maxPayload", "4k")).contains("between 1 MiB and 1 GiB"));
        assertTrue(error(Map.of("connectionMemory", "64 MiB")).contains("at least twice maxPayload"));
        assertTrue(error(Map.of("maxConnections", 0)).contains("'maxConnections'"));
        assertTrue(error(Map.of("handshakeTimeout", "soon")).contains("'handshakeTimeout'"));
        assertTrue(error(Map.of("exports", new String[] {"a=b", "a=c"})).contains("listed twice"));
        assertTrue(error(Map.of("exports", new String[] {"a=b;fast"})).contains("unknown export option 'fast'"));
        assertTrue(error(Map.of("exports", "a=b", "defaultExport", "z")).contains("'defaultExport'"));
    }

    @Test
    void diskErrorsMapToTheDocumentedNbdErrors() {
        assertEquals(NbdError.EINVAL, NbdError.of(new DiskError.IllegalBlock(), false));
        assertEquals(NbdError.ENOSPC, NbdError.of(new DiskError.IllegalBlock(), true));
        assertEquals(NbdError.EPERM, NbdError.of(new DiskError.ReadOnly(), true));
        assertEquals(NbdError.EPERM, NbdError.of(new DiskError.ReservationConflict(), true));
        assertEquals(NbdError.EINVAL, NbdError.of(new DiskError.InvalidInput(), false));
        assertEquals(NbdError.EIO, NbdError.of(new DiskError.Io(new java.io.IOException("bad sector")), false));
        assertEquals(NbdError.ENOSPC, NbdError.of(new DiskError.Io(new java.io.IOException(
                "pwritev2 at 0: No space left on device")), true));
        assertEquals(NbdError.ENOSPC, NbdError.of(new DiskError.Io(new java.io.IOException("x",
                new java.io.IOException("Disk quota exceeded"))), true));
        assertEquals(NbdError.EIO, NbdError.of(new DiskError.AbortDueToPreemptAndAbort(), false));
        assertEquals(NbdError.ENOTSUP, NbdError.of(new DiskError.UnsupportedEject(), false));
        assertEquals(5, NbdError.EIO.code);
        assertEquals(108, NbdError.ESHUTDOWN.code);
    }
}
