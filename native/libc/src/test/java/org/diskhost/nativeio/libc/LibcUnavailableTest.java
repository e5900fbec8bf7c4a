package org.diskhost.nativeio.libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Why native calls cannot be made: the reasons a user reads in a log. */
class LibcUnavailableTest {
    @Test
    void anotherPlatformSaysWhich() {
        assertNull(Libc.platformProblem("Linux", "amd64"));
        assertNull(Libc.platformProblem("Linux", "aarch64"));
        assertEquals("native calls need Linux on x86_64 or aarch64; this is Mac OS X on aarch64",
                Libc.platformProblem("Mac OS X", "aarch64"));
        assertEquals("native calls need Linux on x86_64 or aarch64; this is Linux on riscv64",
                Libc.platformProblem("Linux", "riscv64"));
    }

    @Test
    void withoutNativeAccessTheReasonSaysSo() throws Exception {
        String out = unavailableInAJvmWith("--illegal-native-access=deny");
        assertTrue(out.startsWith("no native access (java.lang.IllegalCallerException"), out);
        assertTrue(out.contains("--enable-native-access"), out);
    }

    @Test
    void withNativeAccessOnlyThePlatformCanBeMissing() throws Exception {
        String platform = Libc.platformProblem(System.getProperty("os.name"), System.getProperty("os.arch"));
        assertEquals(platform == null ? "available" : platform,
                unavailableInAJvmWith("--enable-native-access=ALL-UNNAMED"));
    }

    /** What {@link Libc#unavailable()} says in a new JVM started with {@code option}. */
    private static String unavailableInAJvmWith(String option) throws Exception {
        String launcher = ProcessHandle.current().info().command().orElseThrow();
        Process probe = new ProcessBuilder(launcher, option, "-cp", System.getProperty("java.class.path"),
                LibcMain.class.getName()).redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, probe.waitFor(), out);
        return out.strip();
    }
}
