package org.diskhost.host.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The default configuration source: a JSON file, named by the framework property {@value #CONFIG_FILE}, whose
 * {@code disks} object maps disk names to specs. Each disk becomes a named factory configuration of
 * {@link DiskHost#FACTORY_PID} in Configuration Admin, so standard OSGi tooling sees and can change the same
 * configuration. The file is watched: an edit updates only the disks whose specs changed, and a disk removed from
 * the file is removed from the host. A malformed file is reported (with line and column) and changes nothing.
 */
@Component(immediate = true)
public final class JsonConfigSource {
    private static final Logger LOG = Logger.getLogger(JsonConfigSource.class.getName());

    /** Framework property: the JSON configuration file. */
    public static final String CONFIG_FILE = "diskhost.config";
    /** Configuration property marking configurations this source manages, with the file's path as value. */
    static final String SOURCE = "diskhost.source";

    private final ConfigurationAdmin configurationAdmin;
    private final Path file;
    private final ScheduledExecutorService watcher;
    private FileTime lastSeen;

    @Activate
    public JsonConfigSource(@Reference ConfigurationAdmin configurationAdmin, BundleContext context) {
        this.configurationAdmin = configurationAdmin;
        String name = context.getProperty(CONFIG_FILE);
        this.file = name == null ? null : Path.of(name).toAbsolutePath();
        if (file == null) {
            LOG.info(() -> "no " + CONFIG_FILE + " property: disks come from Configuration Admin only");
            watcher = null;
            return;
        }
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "diskhost-config-watcher");
            t.setDaemon(true);
            return t;
        });
        watcher.execute(this::syncIfChanged);
        watcher.scheduleWithFixedDelay(this::syncIfChanged, 1, 1, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    private void syncIfChanged() {
        try {
            FileTime modified = Files.exists(file) ? Files.getLastModifiedTime(file) : null;
            if (Objects.equals(modified, lastSeen)) {
                return;
            }
            lastSeen = modified;
            if (modified == null) {
                LOG.warning(() -> "configuration file " + file + " does not exist");
                return;
            }
            sync(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            LOG.warning(() -> "configuration file " + file + ": " + e.getMessage() + "; the configuration is unchanged");
        }
    }

    /** Makes Configuration Admin hold exactly the disks of {@code text}. */
    void sync(String text) throws IOException {
        Map<String, Map<String, Object>> wanted = readDisks(text);
        String source = file.toString();
        for (Map.Entry<String, Map<String, Object>> e : wanted.entrySet()) {
            Configuration configuration = configurationAdmin.getFactoryConfiguration(DiskHost.FACTORY_PID,
                    e.getKey(), "?");
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put(DiskHost.NAME, e.getKey());
            properties.put(DiskHost.SPEC, Json.write(e.getValue()));
            properties.put(SOURCE, source);
            if (!same(configuration.getProperties(), properties)) {
                configuration.update(properties);
                LOG.info(() -> "disk '" + e.getKey() + "' configured from " + file.getFileName());
            }
        }
        Set<String> names = new HashSet<>(wanted.keySet());
        try {
            Configuration[] existing = configurationAdmin.listConfigurations(
                    "(&(service.factoryPid=" + DiskHost.FACTORY_PID + ")(" + SOURCE + "=" + escape(source) + "))");
            if (existing != null) {
                for (Configuration c : existing) {
                    if (!names.contains(String.valueOf(c.getProperties().get(DiskHost.NAME)))) {
                        c.delete();
                    }
                }
            }
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@code disks} of a configuration document, validated for shape; specs are checked by the host. */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> readDisks(String text) {
        Map<String, Object> document;
        try {
            document = Json.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
        }
        Object disks = document.getOrDefault("disks", Map.of());
        if (!(disks instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("\"disks\" must be an object mapping disk names to disks");
        }
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        map.forEach((name, spec) -> {
            if (!(spec instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("disk '" + name + "' must be an object with a \"kind\"");
            }
            out.put((String) name, (Map<String, Object>) spec);
        });
        return out;
    }

    private static boolean same(Dictionary<String, Object> current, Hashtable<String, Object> wanted) {
        if (current == null) {
            return false;
        }
        for (Map.Entry<String, Object> e : wanted.entrySet()) {
            if (!e.getValue().equals(current.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("*", "\\*");
    }
}
