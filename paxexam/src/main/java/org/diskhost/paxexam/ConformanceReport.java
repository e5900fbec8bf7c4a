package org.diskhost.paxexam;

import java.util.List;
import java.util.Map;

/**
 * What one run of the conformance suite inside the framework found, check by check (a check is named after its
 * test method in {@code DiskConformance}).
 *
 * @param subject what was checked: the disk spec, as the caller gave it
 * @param passed the checks that passed
 * @param skipped the checks skipped, each with its reason (an assumption that does not hold for this disk, such as
 *        the writing checks on a read-only disk)
 * @param failed the checks that failed, each with its failure; a failure outside any one check (the suite could
 *        not even start) is named in brackets
 */
public record ConformanceReport(String subject, List<String> passed, Map<String, String> skipped,
        Map<String, Throwable> failed) {
    public ConformanceReport {
        passed = List.copyOf(passed);
        skipped = Map.copyOf(skipped);
        failed = Map.copyOf(failed);
    }

    /** The checks that ran to an outcome, passed or failed. */
    public int ran() {
        return passed.size() + failed.size();
    }

    /**
     * Fails, naming every failed check with its message (the failures attached as suppressed exceptions), if a
     * check failed, or if no check ran at all: a suite that checked nothing must not pass.
     */
    public void assertPassed() {
        if (!failed.isEmpty()) {
            StringBuilder message = new StringBuilder().append(failed.size()).append(" of ").append(ran())
                    .append(" conformance checks failed for ").append(subject).append(':');
            failed.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> message.append("\n  ")
                    .append(e.getKey()).append(": ").append(e.getValue()));
            AssertionError error = new AssertionError(message.toString());
            failed.values().forEach(error::addSuppressed);
            throw error;
        }
        if (ran() == 0) {
            throw new AssertionError("no conformance check ran for " + subject + " (skipped: " + skipped + ")");
        }
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("conformance of ").append(subject).append(": ").append(passed.size())
                .append(" passed, ").append(skipped.size()).append(" skipped, ").append(failed.size())
                .append(" failed");
        skipped.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> out.append("\n  skipped ")
                .append(e.getKey()).append(": ").append(e.getValue()));
        failed.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> out.append("\n  FAILED ")
                .append(e.getKey()).append(": ").append(e.getValue()));
        return out.toString();
    }
}
