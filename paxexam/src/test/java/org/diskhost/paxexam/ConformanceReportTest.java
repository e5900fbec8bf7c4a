package org.diskhost.paxexam;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ConformanceReportTest {
    @Test
    void aRunWithoutFailuresPasses() {
        assertDoesNotThrow(new ConformanceReport("spec", List.of("a", "b"), Map.of("c", "read-only"), Map.of())
                ::assertPassed);
    }

    @Test
    void aRunInWhichNoCheckRanFails() {
        ConformanceReport onlySkipped = new ConformanceReport("spec", List.of(), Map.of("c", "read-only"), Map.of());
        AssertionError e = assertThrows(AssertionError.class, onlySkipped::assertPassed);
        assertTrue(e.getMessage().startsWith("no conformance check ran for spec"), e.getMessage());
        assertThrows(AssertionError.class, new ConformanceReport("spec", List.of(), Map.of(), Map.of())::assertPassed);
    }

    @Test
    void everyFailedCheckIsNamedWithItsMessage() {
        AssertionError first = new AssertionError("sector 3 differs");
        IllegalStateException second = new IllegalStateException("closed");
        ConformanceReport report = new ConformanceReport("spec", List.of("a"), Map.of(),
                Map.of("zeta", first, "alpha", second));
        AssertionError e = assertThrows(AssertionError.class, report::assertPassed);
        assertEquals("2 of 3 conformance checks failed for spec:\n  alpha: " + second + "\n  zeta: " + first,
                e.getMessage());
        assertEquals(2, e.getSuppressed().length);
        assertTrue(report.toString().contains("FAILED alpha: " + second), report.toString());
    }
}
