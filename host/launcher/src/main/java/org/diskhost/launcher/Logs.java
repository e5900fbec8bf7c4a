package org.diskhost.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The host's log as operators read it: one line per event on standard error, the level from the command line (and
 * later from the configuration's {@code log} section), and no stack trace unless the level is {@code FINE} or finer (a
 * failure's message and causes are on its line). Under systemd ({@code JOURNAL_STREAM} set: standard error goes to the
 * journal) each line starts with its syslog priority ({@code <4>}) instead of a time: the journal adds the time and
 * reads the priority. Elsewhere each line starts with the time.
 */
final class Logs {
    private Logs() {
    }

    /** Installs the one-line handler on the root logger at {@code level}; journal style if {@code environment} says so. */
    static void install(Level level, Map<String, String> environment) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler handler = new ConsoleHandler(); // standard error
        handler.setLevel(Level.ALL); // the root logger's level decides
        handler.setFormatter(new OneLine(environment.containsKey("JOURNAL_STREAM")));
        root.addHandler(handler);
        root.setLevel(level);
    }

    /**
     * A level by name, in any case: {@code severe}, {@code warning}, {@code info}, {@code config}, {@code fine},
     * {@code finer}, {@code finest}, {@code all} or {@code off}.
     *
     * @throws IllegalArgumentException naming the accepted levels
     */
    static Level level(String name) {
        try {
            return Level.parse(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown log level '" + name
                    + "' (use severe, warning, info, fine, finer, finest or off)");
        }
    }

    /** {@code [<P>|HH:mm:ss] LEVEL logger: message[: failure]}, on one line. */
    static final class OneLine extends Formatter {
        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
        private final boolean journal;

        OneLine(boolean journal) {
            this.journal = journal;
        }

        @Override
        public String format(LogRecord record) {
            StringBuilder line = new StringBuilder();
            line.append(journal ? "<" + priority(record.getLevel()) + ">"
                    : LocalTime.ofInstant(record.getInstant(), java.time.ZoneId.systemDefault()).format(TIME) + " ");
            line.append(record.getLevel().getName()).append(' ').append(shortName(record.getLoggerName())).append(": ")
                    .append(oneLine(formatMessage(record)));
            Throwable thrown = record.getThrown();
            if (thrown != null) {
                line.append(": ").append(oneLine(causes(thrown)));
            }
            line.append(System.lineSeparator());
            if (thrown != null && Logger.getLogger("").isLoggable(Level.FINE)) {
                StringWriter trace = new StringWriter();
                thrown.printStackTrace(new PrintWriter(trace));
                line.append(trace);
            }
            return line.toString();
        }

        /** The syslog priority of a level: 3 error, 4 warning, 6 info, 7 debug. */
        static int priority(Level level) {
            int value = level.intValue();
            return value >= Level.SEVERE.intValue() ? 3 : value >= Level.WARNING.intValue() ? 4
                    : value >= Level.INFO.intValue() ? 6 : 7;
        }

        /** {@code org.diskhost.host.core.DiskHost} as {@code DiskHost}; names without a class stay as they are. */
        static String shortName(String logger) {
            if (logger == null || logger.isEmpty()) {
                return "diskhost";
            }
            int dot = logger.lastIndexOf('.');
            return dot < 0 ? logger : logger.substring(dot + 1);
        }

        private static String causes(Throwable thrown) {
            StringBuilder s = new StringBuilder();
            for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (!s.isEmpty()) {
                    s.append(": ");
                }
                s.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            }
            return s.toString();
        }

        private static String oneLine(String text) {
            return text.strip().replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
        }
    }
}
