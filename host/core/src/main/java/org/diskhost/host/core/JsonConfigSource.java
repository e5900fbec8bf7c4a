package org.diskhost.host.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
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
 * {@code disks} object maps disk names to specs, and whose other top-level objects configure components (section
 * {@code nbd} is PID {@code org.diskhost.nbd}). Each disk becomes a named factory configuration of
 * {@link DiskHost#FACTORY_PID} in Configuration Admin, so standard OSGi tooling sees and can change the same
 * configuration. The file is watched: an edit updates only the disks whose specs changed, and a disk removed from
 * the file is removed from the host. A malformed file is reported (with line and column) and changes nothing.
 */
@Component(immediate = true, service = {JsonConfigSource.class, Runnable.class},
        property = JsonConfigSource.RELOAD + ":Boolean=true")
public final class JsonConfigSource implements Runnable {
    private static final Logger LOG = Logger.getLogger(JsonConfigSource.class.getName());

    /** Framework property: the JSON configuration file. */
    public static final String CONFIG_FILE = "diskhost.config";
    /** Configuration property marking configurations this source manages, with the file's path as value. */
    static final String SOURCE = "diskhost.source";
    /**
     * Service property of this source's {@link Runnable} service: running it re-reads the file now, changed or not
     * (the launcher runs it on SIGHUP).
     */
    public static final String RELOAD = "diskhost.reload";

    /**
     * What the file configured when it was last read.
     *
     * @param disks the disk names
     * @param components the PIDs of the component sections
     * @param problem why the file could not be read, or empty (what it configured before stays in force)
     */
    record Configured(java.util.Set<String> disks, java.util.Set<String> components, String problem) {
    }

    private volatile Configured configured; // null until the file was first read
    private final java.util.List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

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

    /** What the file configured when it was last read; empty until then, or when there is no file. */
    java.util.Optional<Configured> configured() {
        return java.util.Optional.ofNullable(configured);
    }

    /** Whether disks come from a file (else from Configuration Admin clients alone). */
    boolean hasFile() {
        return file != null;
    }

    /** Tells {@code listener} (on the watcher's thread) after every read of the file. */
    void onRead(Runnable listener) {
        listeners.add(listener);
    }

    /** Re-reads the file now, whether or not it changed, and returns once Configuration Admin holds what it says. */
    @Override
    public void run() {
        if (watcher == null) {
            return;
        }
        LOG.info(() -> "reloading " + file);
        try {
            watcher.submit(() -> {
                lastSeen = null;
                syncIfChanged();
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            LOG.warning(() -> "reloading " + file + " failed: " + e.getMessage());
        }
    }

    private void read(Configured now) {
        configured = now;
        listeners.forEach(Runnable::run);
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
                String problem = "configuration file " + file + " does not exist";
                LOG.warning(problem);
                read(problem(problem));
                return;
            }
            sync(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            String problem = "configuration file " + file + ": " + e.getMessage();
            LOG.warning(() -> problem + "; the configuration is unchanged");
            read(problem(problem));
        }
    }

    /** What was configured before, with a problem reading the file now. */
    private Configured problem(String problem) {
        Configured before = configured;
        return before == null ? new Configured(java.util.Set.of(), java.util.Set.of(), problem)
                : new Configured(before.disks(), before.components(), problem);
    }

    /** Makes Configuration Admin hold exactly the disks and component configurations of {@code text}. */
    void sync(String text) throws IOException {
        Map<String, Object> document = parse(text);
        Map<String, Map<String, Object>> wanted = readDisks(document);
        Map<String, Hashtable<String, Object>> components = readComponents(document);
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
        for (Map.Entry<String, Hashtable<String, Object>> e : components.entrySet()) {
            Configuration configuration = configurationAdmin.getConfiguration(e.getKey(), "?");
            Hashtable<String, Object> properties = e.getValue();
            properties.put(SOURCE, source);
            if (!same(configuration.getProperties(), properties) || configuration.getProperties().size()
                    != properties.size() + 1) { // + service.pid
                configuration.update(properties);
                LOG.info(() -> "configuration " + e.getKey() + " set from " + file.getFileName());
            }
        }
        Set<String> names = new HashSet<>(wanted.keySet());
        for (Configuration c : listConfigurations("(" + SOURCE + "=" + escape(source) + ")")) {
            String factoryPid = c.getFactoryPid();
            boolean keep = DiskHost.FACTORY_PID.equals(factoryPid)
                    ? names.contains(String.valueOf(c.getProperties().get(DiskHost.NAME)))
                    : factoryPid != null || components.containsKey(c.getPid());
            if (!keep) {
                c.delete();
            }
        }
        read(new Configured(java.util.Set.copyOf(wanted.keySet()), java.util.Set.copyOf(components.keySet()), ""));
    }

    private Configuration[] listConfigurations(String filter) throws IOException {
        try {
            Configuration[] found = configurationAdmin.listConfigurations(filter);
            return found == null ? new Configuration[0] : found;
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> parse(String text) {
        try {
            return Json.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getMessage());
        }
    }

    /** The {@code disks} of a configuration document, validated for shape; specs are checked by the host. */
    static Map<String, Map<String, Object>> readDisks(String text) {
        return readDisks(parse(text));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> readDisks(Map<String, Object> document) {
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

    /**
     * Every other top-level object is the configuration of a component: section {@code "nbd"} becomes PID
     * {@code org.diskhost.nbd}. Its values become properties: strings, numbers and booleans as they are, lists as
     * string arrays.
     */
    static Map<String, Hashtable<String, Object>> readComponents(Map<String, Object> document) {
        Map<String, Hashtable<String, Object>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> section : document.entrySet()) {
            if (section.getKey().equals("disks")) {
                continue;
            }
            if (!(section.getValue() instanceof Map<?, ?> values)) {
                throw new IllegalArgumentException("\"" + section.getKey() + "\" must be an object of settings");
            }
            Hashtable<String, Object> properties = new Hashtable<>();
            values.forEach((k, v) -> properties.put((String) k, property(section.getKey() + "." + k, v)));
            out.put(COMPONENT_PID_PREFIX + section.getKey(), properties);
        }
        return out;
    }

    /** The prefix of the PID a top-level section configures. */
    static final String COMPONENT_PID_PREFIX = "org.diskhost.";

    private static Object property(String where, Object value) {
        if (value instanceof List<?> list) {
            String[] array = new String[list.size()];
            for (int i = 0; i < array.length; i++) {
                Object item = list.get(i);
                if (item instanceof Map<?, ?> || item instanceof List<?> || item == null) {
                    throw new IllegalArgumentException("\"" + where + "\" must be a list of plain values");
                }
                array[i] = String.valueOf(item);
            }
            return array;
        }
        if (value instanceof String || value instanceof Boolean || value instanceof Long) {
            return value;
        }
        if (value instanceof Number n) {
            return n.longValue() == n.doubleValue() ? (Object) n.longValue() : (Object) n.toString();
        }
        throw new IllegalArgumentException("\"" + where + "\" must be a string, number, boolean or list");
    }

    private static boolean same(Dictionary<String, Object> current, Hashtable<String, Object> wanted) {
        if (current == null) {
            return false;
        }
        for (Map.Entry<String, Object> e : wanted.entrySet()) {
            Object now = current.get(e.getKey());
            boolean equal = e.getValue() instanceof String[] a && now instanceof String[] b
                    ? java.util.Arrays.equals(a, b)
                    : e.getValue().equals(now);
            if (!equal) {
                return false;
            }
        }
        return true;
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("*", "\\*");
    }
}
