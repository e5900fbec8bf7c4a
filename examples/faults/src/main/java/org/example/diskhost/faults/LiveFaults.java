package org.example.diskhost.faults;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.diskhost.api.change.LiveChanges;

/**
 * The open faults disks by configured disk name, and the runtime changes by configuration PID (see
 * {@link LiveChanges}): a disk gets the change for its name when it opens and whenever that change is updated or
 * deleted (then it returns to its spec), so a change outlives chain rebuilds; the last updated change for a disk
 * applies. A disk that inherited a change from its predecessor in a rebuilt chain (one this bundle has not heard of
 * yet, as right after its own update) keeps it until a change for its name is updated or deleted. Thread-safe.
 */
final class LiveFaults extends LiveChanges<FaultsDisk, FaultChange> {
    LiveFaults() {
        super(FaultsDisk::diskName, new Target<>() {
            @Override
            public void apply(FaultsDisk disk, Optional<FaultChange> change) {
                Optional<FaultChange> inForce = change.or(disk::inherited);
                if (inForce.isPresent()) {
                    disk.change(inForce.get().values(), inForce.get().source());
                } else {
                    disk.change(Map.of(), FaultsDisk.SPEC);
                }
            }

            @Override
            public void superseded(FaultsDisk disk) {
                disk.forgetInherited();
            }
        });
    }

    List<FaultsDisk> disks(String diskName) {
        return live(diskName);
    }
}
