package org.diskhost.backend.delay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The open delay disks by configured disk name, and the runtime changes by configuration PID. A disk gets the
 * change for its name when it opens and whenever that change is updated or deleted (then it returns to its spec's
 * delays), so a change outlives chain rebuilds. When several configurations name the same disk, the one updated last
 * applies. A disk that inherited delays from its predecessor in a rebuilt chain (a runtime change this bundle has
 * not heard of yet, as after its own update) keeps them until a change for its name is updated or deleted.
 * Thread-safe.
 */
final class LiveDelays {
    private final Map<String, List<DelayDisk>> open = new LinkedHashMap<>();
    /** By PID, in order of their last update. */
    private final LinkedHashMap<String, DelayChange> changes = new LinkedHashMap<>();

    /** Adds an opened disk and gives it the change for its name, if any. */
    synchronized void register(DelayDisk disk) {
        open.computeIfAbsent(disk.diskName(), n -> new ArrayList<>()).add(disk);
        apply(disk);
    }

    /** Removes a closed disk; it gets no more changes. */
    synchronized void unregister(DelayDisk disk) {
        List<DelayDisk> disks = open.get(disk.diskName());
        if (disks != null) {
            disks.removeIf(d -> d == disk);
            if (disks.isEmpty()) {
                open.remove(disk.diskName());
            }
        }
    }

    /** Adds or replaces the change of {@code change.source()}, and applies it to the open disks it names. */
    synchronized void update(DelayChange change) {
        DelayChange old = changes.remove(change.source());
        changes.put(change.source(), change);
        if (old != null && !old.diskName().equals(change.diskName())) {
            applyAll(old.diskName()); // renamed: the old disk loses this change
        }
        forgetInherited(change.diskName());
        applyAll(change.diskName());
    }

    /** Removes the change of {@code source}; the disks it named return to their spec's delays (or another change). */
    synchronized void delete(String source) {
        DelayChange old = changes.remove(source);
        if (old != null) {
            forgetInherited(old.diskName());
            applyAll(old.diskName());
        }
    }

    /** The change in force for {@code diskName}: the last updated one that names it. */
    synchronized Optional<DelayChange> changeFor(String diskName) {
        DelayChange found = null;
        for (DelayChange c : changes.values()) {
            if (c.diskName().equals(diskName)) {
                found = c;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The open delay disks of {@code diskName}. */
    synchronized List<DelayDisk> disks(String diskName) {
        return List.copyOf(open.getOrDefault(diskName, List.of()));
    }

    private void forgetInherited(String diskName) {
        open.getOrDefault(diskName, List.of()).forEach(DelayDisk::forgetInherited);
    }

    private void applyAll(String diskName) {
        for (DelayDisk d : open.getOrDefault(diskName, List.of())) {
            apply(d);
        }
    }

    private void apply(DelayDisk disk) {
        Optional<DelayChange> change = changeFor(disk.diskName());
        if (change.isPresent()) {
            disk.setDelays(change.get().applyTo(disk.configured()), change.get().source());
        } else if (disk.inherited().isPresent()) {
            disk.setDelays(disk.inherited().get(), disk.inheritedSource());
        } else {
            disk.setDelays(disk.configured(), "spec");
        }
    }
}
