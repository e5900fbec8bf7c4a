package org.diskhost.backend.layered;

import java.util.Dictionary;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

import org.diskhost.api.change.RuntimeChange;
import org.osgi.service.cm.ConfigurationException;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Component;

/**
 * Receives runtime RAM resizes as factory configurations of {@value #FACTORY_PID} (properties {@code diskhost.name}
 * and {@code size}; see {@link RamResize#parse}). A resize applies in place to the open RAM layers of the named disk
 * and wakes whoever waits for the disk's size to change; the host does not rebuild the disk (its own configuration
 * is untouched), so the data stays. RAM layers the disk opens later start at that size. Deleting the configuration
 * leaves the layers at their size.
 */
@Component(service = ManagedServiceFactory.class, property = "service.pid=" + RamResizeComponent.FACTORY_PID)
public final class RamResizeComponent implements ManagedServiceFactory {
    private static final Logger LOG = Logger.getLogger(RamResizeComponent.class.getName());

    /** The factory PID of runtime RAM resizes. */
    public static final String FACTORY_PID = "org.diskhost.ram";

    /** Disk names by PID, to forget a size when its configuration goes. Guarded by itself. */
    private final Map<String, String> disks = new LinkedHashMap<>();

    @Override
    public String getName() {
        return "diskhost RAM resizes";
    }

    @Override
    public void updated(String pid, Dictionary<String, ?> properties) throws ConfigurationException {
        RamResize resize;
        int resized;
        try {
            resize = RamResize.parse(pid, RuntimeChange.properties(properties));
            resized = LiveRamLayers.INSTANCE.resize(resize.diskName(), resize.bytes());
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "configuration " + pid + ": " + e.getMessage());
            throw new ConfigurationException(RamResize.SIZE, e.getMessage(), e);
        }
        synchronized (disks) {
            disks.put(pid, resize.diskName());
        }
        LOG.info(() -> "disk '" + resize.diskName() + "': RAM size " + resize.bytes() + " bytes (" + resized
                + " open RAM layer(s) resized)");
    }

    @Override
    public void deleted(String pid) {
        String disk;
        synchronized (disks) {
            disk = disks.remove(pid);
        }
        if (disk != null) {
            LiveRamLayers.INSTANCE.forget(disk);
        }
    }
}
