package org.diskhost.api.layer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Records which sectors of a read a layer supplied (see {@link LayerIo#read}). A marker covers exactly the sectors
 * of the read it was passed with, {@code [sector, sector + count)}; marking a sector outside them is a programming
 * error and throws {@link IllegalArgumentException}. Marking a sector twice is harmless. Thread-safe; every mark
 * must be made before the read's future completes.
 */
@ProviderType
public interface SectorMarker {

    /** Marks one sector as supplied by the layer. */
    void set(long sector);

    /** Marks {@code count} sectors from {@code sector} as supplied by the layer. */
    void setRange(long sector, long count);

    /** Marks every sector of the read as supplied by the layer. */
    void setAll();
}
