package org.diskhost.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.diskhost.testkit.ExternalTools;
import org.junit.jupiter.api.Test;

/** The host's log as an operator reads it, through {@code bin/diskhost}: in a terminal and in systemd's journal. */
class LogsThroughLauncherIT extends LauncherTest {

    private static String config(int port, String extra) {
        return """
                {"disks": {"demo": {"kind": "file", "path": "demo.img", "create": "4 MiB"},
                           "lost": {"kind": "file", "path": "missing.img"}},
                 "nbd": {"listen": "127.0.0.1:%d"}%s}
                """.formatted(port, extra);
    }

    /**
     * Under systemd (JOURNAL_STREAM set): every logged line starts with its syslog priority and no time, the first
     * says the version, the JDK and the data directory, one says what is served where, and an expected error (a
     * missing file) is one line without a stack trace.
     */
    @Test
    void journalLinesHavePrioritiesNoTimesAndNoStackTraces() throws Exception {
        int port = freePort();
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, config(port, ""));
        start(config, Map.of("JOURNAL_STREAM", "8:123456"));
        host.await("diskhost is ready");
        ExternalTools.ok(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + port + "/demo");
        host.stop();
        List<String> lines = host.output().lines().toList();
        String first = lines.getFirst();
        assertTrue(first.startsWith("<6>INFO diskhost: diskhost ") && first.contains(" on JDK 25")
                && first.contains("; data " + dir.resolve("var")), first);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("<6>INFO diskhost: diskhost is ready: 1 disk ready (demo);"
                + " nbd on tcp 127.0.0.1:" + port + "; 1 failed: disk 'lost', kind 'file'")), host.output());
        for (String line : lines) {
            boolean logged = line.matches("<[3467]>(SEVERE|WARNING|INFO|FINE) [A-Za-z.$-]+: .*");
            boolean printed = line.equals("diskhost: stopping (closing every disk)") || line.equals("diskhost stopped");
            assertTrue(logged || printed, "not a journal line: " + line + "\n" + host.output());
        }
        assertEquals(1, lines.stream().filter(l -> l.startsWith("<4>WARNING") && l.contains("'lost'")).count(),
                host.output());
    }

    /**
     * In a terminal lines start with the time; --log-level warning leaves out INFO; a "log" section in the file
     * sets the level while the host runs (here FINE, which shows each NBD connection's export).
     */
    @Test
    void theLevelComesFromTheCommandLineAndFromTheConfiguration() throws Exception {
        int port = freePort();
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, config(port, ""));
        start(config, Map.of(), "--log-level", "warning");
        host.await("'lost'");
        Thread.sleep(1000);
        List<String> quiet = host.output().lines().toList();
        assertTrue(quiet.stream().noneMatch(l -> l.contains(" INFO ")), host.output());
        assertTrue(quiet.stream().anyMatch(l -> l.matches("\\d\\d:\\d\\d:\\d\\d WARNING DiskHost: disk 'lost', .*")),
                host.output());

        Files.writeString(config, config(port, """
                , "log": {"level": "fine"}"""));
        host.await("log level FINE (from the configuration)");
        ExternalTools.await(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + port + "/demo");
        host.await("FINE Connection: nbd client 127.0.0.1:");
        assertTrue(host.output().contains("serving export 'demo'"), host.output());
        host.stop();
    }

    @Test
    void aBadLevelIsRefusedWithTheLevelsThereAre() throws Exception {
        Path config = dir.resolve("diskhost.json");
        Files.writeString(config, config(freePort(), ""));
        start(config, Map.of(), "--log-level", "loud");
        assertEquals(2, host.process().waitFor());
        assertTrue(host.output().startsWith("diskhost: unknown log level 'loud' (use severe, warning, info, fine,"
                + " finer, finest or off)"), host.output());
    }
}
