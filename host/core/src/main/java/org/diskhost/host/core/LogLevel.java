package org.diskhost.host.core;

import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The log level from the configuration ({@value #PID}, the {@code log} section of the JSON file): while it exists,
 * its {@code level} is the level of every logger without one of its own (the root logger's); when it goes away, the
 * level the host started with (the launcher's {@code --log-level}) is back.
 */
@Component(configurationPid = LogLevel.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true,
        service = {})
public final class LogLevel {
    private static final Logger LOG = Logger.getLogger("diskhost");
    /** The configuration PID. */
    public static final String PID = "org.diskhost.log";

    private final Level before;

    @Activate
    public LogLevel(Map<String, Object> properties) {
        Logger root = Logger.getLogger("");
        before = root.getLevel();
        for (String key : properties.keySet()) {
            if (!key.equals("level") && !key.contains(".")) { // service.pid, component.name, diskhost.source, ...
                LOG.warning(() -> "log setting '" + key + "' is unknown (the log section has only 'level')");
            }
        }
        Object value = properties.get("level");
        if (value == null) {
            return;
        }
        Level level;
        try {
            level = Level.parse(value.toString().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "log setting 'level': unknown level '" + value
                    + "' (use severe, warning, info, fine, finer, finest or off); the level stays " + before);
            return;
        }
        root.setLevel(level);
        LOG.info(() -> "log level " + level + " (from the configuration)");
    }

    @Deactivate
    void deactivate() {
        Logger.getLogger("").setLevel(before);
    }
}
