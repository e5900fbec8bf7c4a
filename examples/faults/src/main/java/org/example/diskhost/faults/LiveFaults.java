package org.example.diskhost.faults;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The open faults disks by configured disk name, and the runtime changes by configuration PID. A disk gets the
 * change for its name when it opens and whenever that change is updated or deleted (then it returns to its spec),
 * so a change outlives chain rebuilds. When several configurations name one disk, the one updated last applies. A
 * disk that inherited a change from its predecessor in a rebuilt chain (one this bundle has not heard of yet, as
 * right after its own update) keeps it until a change for its name is updated or deleted. Thread-safe.
 */
final class LiveFaults {
    private final Map<String, List<FaultsDisk>> open = new LinkedHashMap<>();
    /** By PID, in order of their last update. */
    private final LinkedHashMap<String, FaultChange> changes = new LinkedHashMap<>();

    synchronized void register(FaultsDisk disk) {
        open.computeIfAbsent(disk.diskName(), n -> new ArrayList<>()).add(disk);
        apply(disk);
    }

    synchronized void unregister(FaultsDisk disk) {
        List<FaultsDisk> disks = open.get(disk.diskName());
        if (disks != null) {
            disks.removeIf(d -> d == disk);
            if (disks.isEmpty()) {
                open.remove(disk.diskName());
            }
        }
    }

    /** Adds or replaces the change of {@code change.source()}, and applies it to the open disks it names. */
    synchronized void update(FaultChange change) {
        FaultChange old = changes.remove(change.source());
        changes.put(change.source(), change);
        if (old != null && !old.diskName().equals(change.diskName())) {
            changed(old.diskName()); // renamed: the old disk loses this change
        }
        changed(change.diskName());
    }

    /** Removes the change of {@code source}; the disks it named return to their spec (or another change). */
    synchronized void delete(String source) {
        FaultChange old = changes.remove(source);
        if (old != null) {
            changed(old.diskName());
        }
    }

    synchronized List<FaultsDisk> disks(String diskName) {
        return List.copyOf(open.getOrDefault(diskName, List.of()));
    }

    private Optional<FaultChange> changeFor(String diskName) {
        FaultChange found = null;
        for (FaultChange c : changes.values()) {
            if (c.diskName().equals(diskName)) {
                found = c;
            }
        }
        return Optional.ofNullable(found);
    }

    private void changed(String diskName) {
        for (FaultsDisk d : open.getOrDefault(diskName, List.of())) {
            d.forgetInherited();
            apply(d);
        }
    }

    private void apply(FaultsDisk disk) {
        Optional<FaultChange> change = changeFor(disk.diskName());
        if (change.isPresent()) {
            disk.change(change.get().values(), change.get().source());
        } else if (disk.inherited().isPresent()) {
            disk.change(disk.inherited().get().values(), disk.inherited().get().source());
        } else {
            disk.change(Map.of(), FaultsDisk.SPEC);
        }
    }
}
