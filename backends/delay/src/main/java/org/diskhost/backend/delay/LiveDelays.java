package org.diskhost.backend.delay;

import java.util.List;
import java.util.Optional;

import org.diskhost.api.change.LiveChanges;

/**
 * The open delay disks by configured disk name, and the runtime changes by configuration PID (see
 * {@link LiveChanges}): a disk gets the change for its name when it opens and whenever that change is updated or
 * deleted (then it returns to its spec's delays), so a change outlives chain rebuilds; the last updated change for
 * a disk applies. A disk that inherited delays from its predecessor in a rebuilt chain (a runtime change this bundle
 * has not heard of yet, as after its own update) keeps them until a change for its name is updated or deleted.
 * Thread-safe.
 */
final class LiveDelays extends LiveChanges<DelayDisk, DelayChange> {
    LiveDelays() {
        super(DelayDisk::diskName, new Target<>() {
            @Override
            public void apply(DelayDisk disk, Optional<DelayChange> change) {
                if (change.isPresent()) {
                    disk.setDelays(change.get().applyTo(disk.configured()), change.get().source());
                } else if (disk.inherited().isPresent()) {
                    disk.setDelays(disk.inherited().get(), disk.inheritedSource());
                } else {
                    disk.setDelays(disk.configured(), "spec");
                }
            }

            @Override
            public void superseded(DelayDisk disk) {
                disk.forgetInherited();
            }
        });
    }

    /** The open delay disks of {@code diskName}. */
    List<DelayDisk> disks(String diskName) {
        return live(diskName);
    }
}
