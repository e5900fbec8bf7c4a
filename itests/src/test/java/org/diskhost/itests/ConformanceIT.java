package org.diskhost.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HexFormat;
import java.util.function.Function;

import org.diskhost.paxexam.ConformanceReport;
import org.diskhost.paxexam.OsgiConformance;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/**
 * The testkit's conformance suite inside the framework ({@link OsgiConformance}), as a third party runs it against
 * its own kind: here against disks the host builds from specs of diskhost's kinds, each check on a fresh disk
 * published by the host. Also what the report says when checks are skipped or fail.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ConformanceIT extends HostTestSupport {
    /** A test key of 64 bytes (the data key, then a different tweak key), in hex. */
    private static final String KEY = key();

    private static String key() {
        byte[] key = new byte[64];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 3 + 1);
        }
        return HexFormat.of().formatHex(key);
    }

    @Configuration
    public Option[] config() throws Exception {
        return hostOptions("conformance", "file", "crypt", "layered");
    }

    @Test
    public void fileDisksConform() {
        OsgiConformance.assertConforms(context,
                "{\"kind\": \"file\", \"path\": \"${name}.img\", \"create\": \"1 MiB\"}");
    }

    @Test
    public void cryptOverFileConforms() {
        OsgiConformance.assertConforms(context, "{\"kind\": \"crypt\", \"key\": \"" + KEY + "\", "
                + "\"disk\": {\"kind\": \"file\", \"path\": \"${name}.img\", \"create\": \"1 MiB\"}}");
    }

    /** The file below is opened read-only (only the RAM layer is written), so each disk gets a file made for it. */
    @Test
    public void aRamLayerOverAFileConforms() {
        String spec = "{\"kind\": \"layered\", \"layers\": [{\"kind\": \"ram\"}, "
                + "{\"kind\": \"disk\", \"disk\": {\"kind\": \"file\", \"path\": \"${name}.img\"}}]}";
        ConformanceReport report = OsgiConformance.run(context, spec, withFile(spec));
        System.out.println(report);
        report.assertPassed();
    }

    /** On a read-only disk the writing checks are skipped, by name, and the read-only check runs. */
    @Test
    public void aReadOnlyDiskSkipsTheWritingChecks() {
        String spec = "{\"kind\": \"file\", \"path\": \"${name}.img\", \"readOnly\": true}";
        ConformanceReport report = OsgiConformance.run(context, spec, withFile(spec));
        System.out.println(report);
        report.assertPassed();
        assertTrue(report.toString(), report.passed().contains("aReadOnlyDiskRefusesWritesAndUnmaps"));
        assertTrue(report.toString(), report.skipped().containsKey("dataRoundTripsAtManyPositions"));
        assertTrue(report.toString(), report.skipped().containsKey("theLastSectorCanBeWrittenAndReadBack"));
    }

    /** Specs of {@code template} for fresh disk names, each with a file {@code NAME.img} of 1 MiB made for it. */
    private Function<String, String> withFile(String template) {
        return name -> {
            try {
                Files.write(dataDirectory().resolve(name + ".img"), new byte[1 << 20]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return template.replace(OsgiConformance.NAME, name);
        };
    }

    /** A disk the suite cannot use fails every check, each reported by name with the reason. */
    @Test
    public void failedChecksAreNamedInTheFailure() {
        String tooSmall = "{\"kind\": \"file\", \"path\": \"${name}.img\", \"create\": \"16 KiB\"}";
        ConformanceReport report = OsgiConformance.run(context, tooSmall);
        assertEquals(report.toString(), 0, report.passed().size());
        assertTrue(report.toString(), report.failed().size() >= 10);
        AssertionError error = assertThrows(AssertionError.class, report::assertPassed);
        assertTrue(error.getMessage(), error.getMessage().contains("conformance checks failed for " + tooSmall));
        assertTrue(error.getMessage(), error.getMessage().contains("\n  metadataIsSane: "));
        assertTrue(error.getMessage(), error.getMessage().contains("needs at least 64 sectors, got 32"));
    }
}
