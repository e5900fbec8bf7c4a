package org.diskhost.backend.layered;

import java.io.IOException;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo shell commands in scope {@code diskhost}: {@code ramresize NAME} shows the RAM layers of a disk, and
 * {@code ramresize NAME SIZE} resizes them through the configuration {@code org.diskhost.ram~NAME}, so the change is
 * the one any Configuration Admin client would make (see {@link RamResizeComponent}).
 */
@Component(service = RamCommands.class, property = {
    "osgi.command.scope=diskhost",
    "osgi.command.function=ramresize"
})
public final class RamCommands {
    private final ConfigurationAdmin configurationAdmin;

    @Activate
    public RamCommands(@Reference ConfigurationAdmin configurationAdmin) {
        this.configurationAdmin = configurationAdmin;
    }

    /** The sizes of the disk's open RAM layers. */
    public String ramresize(String name) {
        List<RamLayer> layers = LiveRamLayers.INSTANCE.layers(name);
        if (layers.isEmpty()) {
            return "disk '" + name + "': no open RAM layer";
        }
        StringBuilder out = new StringBuilder();
        for (RamLayer layer : layers) {
            out.append("disk '").append(name).append("': RAM layer of ").append(layer.sectorCount()).append(" x ")
                    .append(layer.sectorSize()).append(" bytes\n");
        }
        return out.toString().strip();
    }

    /** Sets the size of the disk's RAM layers, such as {@code 128MiB}. */
    public String ramresize(String name, String size) throws IOException {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(RamResize.NAME, name);
        properties.put(RamResize.SIZE, size);
        RamResize resize;
        try {
            resize = RamResize.parse(RamResizeComponent.FACTORY_PID + "~" + name, Map.copyOf(properties));
            for (RamLayer layer : LiveRamLayers.INSTANCE.layers(name)) {
                if (resize.bytes() % layer.sectorSize() != 0) {
                    return "error: size must be a multiple of the sector size " + layer.sectorSize();
                }
            }
        } catch (IllegalArgumentException e) {
            return "error: " + e.getMessage();
        }
        configurationAdmin.getFactoryConfiguration(RamResizeComponent.FACTORY_PID, name, "?").update(properties);
        return "disk '" + name + "': RAM size " + resize.bytes() + " bytes (configuration "
                + RamResizeComponent.FACTORY_PID + "~" + name + ")";
    }
}
