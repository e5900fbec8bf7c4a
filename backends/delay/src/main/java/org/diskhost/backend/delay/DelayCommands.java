package org.diskhost.backend.delay;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo shell commands in scope {@code diskhost} that drive runtime delay changes through Configuration Admin, so
 * they are the same configurations any other client sees and they persist: {@code delay NAME} shows the change for
 * a disk, {@code delay NAME READ WRITE} sets both delays (durations such as {@code 0}, {@code 250ms}, {@code 2s}),
 * and {@code delayreset NAME} deletes the change, returning the disk to its spec's delays. {@code inspect NAME}
 * shows the delays in force.
 */
@Component(service = DelayCommands.class, property = {
    "osgi.command.scope=diskhost",
    "osgi.command.function=delay",
    "osgi.command.function=delayreset"
})
public final class DelayCommands {
    private final ConfigurationAdmin configurationAdmin;

    @Activate
    public DelayCommands(@Reference ConfigurationAdmin configurationAdmin) {
        this.configurationAdmin = configurationAdmin;
    }

    /** The runtime change in force for disk {@code name}, or a note that its spec's delays apply. */
    public String delay(String name) throws IOException, InvalidSyntaxException {
        List<String> lines = new ArrayList<>();
        for (Configuration c : changesFor(name)) {
            Dictionary<String, Object> p = c.getProperties();
            lines.add(c.getPid() + ": readDelay " + orSpec(p.get(DelayDiskResolver.READ_DELAY)) + ", writeDelay "
                    + orSpec(p.get(DelayDiskResolver.WRITE_DELAY)));
        }
        return lines.isEmpty() ? "disk '" + name + "': no runtime change; the spec's delays apply"
                : String.join("\n", lines);
    }

    /** Sets both delays of disk {@code name} in configuration {@code org.diskhost.delay~NAME}. */
    public String delay(String name, String read, String write) throws IOException {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(DelayChange.NAME, name);
        properties.put(DelayDiskResolver.READ_DELAY, read);
        properties.put(DelayDiskResolver.WRITE_DELAY, write);
        String pid = DelayComponent.FACTORY_PID + "~" + name;
        DelayChange change;
        try {
            change = DelayChange.parse(pid, Map.copyOf(properties)); // refuse before anything is stored
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage();
        }
        configurationAdmin.getFactoryConfiguration(DelayComponent.FACTORY_PID, name, "?").update(properties);
        return "disk '" + name + "': read delay " + Delays.show(change.read().orElseThrow()) + ", write delay "
                + Delays.show(change.write().orElseThrow()) + " (configuration " + pid + ")";
    }

    /** Deletes every runtime change for disk {@code name}. */
    public String delayreset(String name) throws IOException, InvalidSyntaxException {
        List<Configuration> changes = changesFor(name);
        for (Configuration c : changes) {
            c.delete();
        }
        return changes.isEmpty() ? "disk '" + name + "': no runtime change to delete"
                : "disk '" + name + "': back to the spec's delays";
    }

    private List<Configuration> changesFor(String name) throws IOException, InvalidSyntaxException {
        Configuration[] all = configurationAdmin.listConfigurations(
                "(service.factoryPid=" + DelayComponent.FACTORY_PID + ")");
        List<Configuration> found = new ArrayList<>();
        for (Configuration c : all == null ? new Configuration[0] : all) {
            Object n = c.getProperties() == null ? null : c.getProperties().get(DelayChange.NAME);
            String disk = n != null ? n.toString() : c.getPid().substring(c.getPid().indexOf('~') + 1);
            if (disk.equals(name)) {
                found.add(c);
            }
        }
        return found;
    }

    private static String orSpec(Object value) {
        return value == null ? "(spec)" : value.toString();
    }
}
