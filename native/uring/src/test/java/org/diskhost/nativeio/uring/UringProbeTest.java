package org.diskhost.nativeio.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.diskhost.nativeio.libc.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UringProbeTest {
    @AfterEach
    void clearProperty() {
        System.clearProperty(UringSupport.PROPERTY);
    }

    @Test
    void findsTheOpcodesThisPackageUses() {
        UringSupport.Available uring = UringTests.available();
        assertTrue(uring.opcodes().containsAll(UringProbe.REQUIRED.keySet()), uring.opcodes().toString());
        assertTrue((uring.features() & UringLayouts.IORING_FEAT_SINGLE_MMAP) != 0);
        assertEquals(System.getProperty("os.version"), uring.kernel());
        assertTrue(uring.describe().startsWith("io_uring on kernel "), uring.describe());
    }

    @Test
    void thePropertyForcesTheFallback() {
        System.setProperty(UringSupport.PROPERTY, "off");
        UringSupport.Unavailable off = assertInstanceOf(UringSupport.Unavailable.class, Uring.probe());
        assertEquals("disabled by the system property diskhost.uring=off", off.reason());
        assertEquals("io_uring unavailable: disabled by the system property diskhost.uring=off", off.describe());

        System.setProperty(UringSupport.PROPERTY, "maybe");
        UringSupport.Unavailable bad = assertInstanceOf(UringSupport.Unavailable.class, Uring.probe());
        assertEquals("the system property diskhost.uring=maybe is neither auto nor off", bad.reason());

        System.setProperty(UringSupport.PROPERTY, "auto");
        UringSupport auto = Uring.probe();
        assertFalse(auto instanceof UringSupport.Unavailable u && u.reason().contains(UringSupport.PROPERTY),
                auto.describe());
    }

    @Test
    void withoutNativeAccessTheReasonSaysSo() throws Exception {
        String launcher = ProcessHandle.current().info().command().orElseThrow();
        Process probe = new ProcessBuilder(launcher, "--illegal-native-access=deny", "-cp",
                System.getProperty("java.class.path"), ProbeMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, probe.waitFor(), out);
        assertTrue(out.startsWith("io_uring unavailable: no native access (java.lang.IllegalCallerException"), out);
        assertTrue(out.contains("--enable-native-access"), out);
    }

    @Test
    void refusalsSayWhy() {
        assertTrue(UringProbe.refusal(Errno.ENOSYS, null, "4.19").contains("kernel 4.19 lacks io_uring"));
        assertEquals("io_uring is disabled on this host (sysctl kernel.io_uring_disabled=2)",
                UringProbe.refusal(Errno.EPERM, "2", "6.6"));
        assertTrue(UringProbe.refusal(Errno.EPERM, "1", "6.6").contains("kernel.io_uring_group"));
        assertTrue(UringProbe.refusal(Errno.EPERM, "0", "6.6").contains("seccomp"));
        assertTrue(UringProbe.refusal(Errno.EPERM, null, "5.15").contains("seccomp"));
        assertTrue(UringProbe.refusal(Errno.ENOMEM, null, "5.10").contains("RLIMIT_MEMLOCK"));
        assertTrue(UringProbe.refusal(Errno.EINVAL, null, "6.1").contains("errno 22"));
    }

    @Test
    void ringsThatCannotBeMadeFailToOpen() {
        UringSupport.Available uring = UringTests.available();
        assertThrows(IllegalArgumentException.class, () -> uring.open("tiny", 1));
        // The kernel allows 32768 entries at most (without IORING_SETUP_CLAMP): its EINVAL reaches the caller and
        // the ring's thread ends.
        UringException e = assertThrows(UringException.class, () -> uring.open("huge", 1 << 20));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().startsWith("io_uring_setup of 1048576 entries: "), e.getMessage());
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("uring-huge")));
    }
}
