package org.diskhost.api.change;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A backend's live objects by configured disk name (the chain elements a runtime change reaches, such as its
 * decorators of a disk), and its runtime changes by source. A live object gets the change in force for its disk
 * when it is {@linkplain #register registered}, and again whenever a change for its disk is updated or deleted, so
 * a change outlives chain rebuilds: the rebuilt chain's objects register and get it. When several changes name one
 * disk, the one updated last is in force; when it is deleted, the one updated before it is.
 *
 * <p>Changes are applied through a {@link Target} while this registry's lock is held, so each object sees them in
 * order; a target must therefore not call back into other registries that could wait for this one. Thread-safe.
 *
 * <p>A backend may extend this class to give its registry a name and typed conveniences.
 *
 * @param <D> the live objects
 * @param <C> the changes
 */
public class LiveChanges<D, C extends DiskChange> {
    /**
     * How changes reach a live object.
     *
     * @param <D> the live objects
     * @param <C> the changes
     */
    public interface Target<D, C> {
        /**
         * Gives {@code live} the change now in force for its disk, or none (then it returns to its spec, or to what
         * it {@linkplain #superseded inherited}).
         */
        void apply(D live, Optional<C> change);

        /**
         * A change for the disk of {@code live} was updated or deleted; called before {@link #apply}. An object that
         * took over a change from its predecessor in a rebuilt chain (one this registry has not been told of yet, as
         * right after its bundle's update) keeps it until this is called, and drops it here. By default nothing.
         */
        default void superseded(D live) {
        }
    }

    private final Function<? super D, String> diskName;
    private final Target<? super D, C> target;
    private final Map<String, List<D>> open = new LinkedHashMap<>();
    /** By source, in order of their last update. */
    private final LinkedHashMap<String, C> changes = new LinkedHashMap<>();

    /**
     * @param diskName the configured disk a live object belongs to; the same for the object's whole life
     * @param target how changes reach a live object
     */
    public LiveChanges(Function<? super D, String> diskName, Target<? super D, C> target) {
        this.diskName = Objects.requireNonNull(diskName, "diskName");
        this.target = Objects.requireNonNull(target, "target");
    }

    /** Adds a live object, and gives it the change in force for its disk, if any. */
    public synchronized void register(D live) {
        String name = diskName.apply(live);
        open.computeIfAbsent(name, n -> new ArrayList<>()).add(live);
        target.apply(live, changeFor(name));
    }

    /** Removes a live object (the same instance): it gets no more changes. */
    public synchronized void unregister(D live) {
        String name = diskName.apply(live);
        List<D> objects = open.get(name);
        if (objects != null) {
            objects.removeIf(o -> o == live);
            if (objects.isEmpty()) {
                open.remove(name);
            }
        }
    }

    /**
     * Adds the change of {@code change.source()}, or replaces it, and applies what is then in force to the live
     * objects of its disk (and of the disk it named before, if it names another now).
     */
    public synchronized void update(C change) {
        C old = changes.remove(change.source());
        changes.put(change.source(), change);
        if (old != null && !old.diskName().equals(change.diskName())) {
            changed(old.diskName());
        }
        changed(change.diskName());
    }

    /**
     * Removes the change of {@code source}, if there is one, and applies what is then in force to the live objects of
     * its disk: another change for it, or none.
     *
     * @return the removed change
     */
    public synchronized Optional<C> delete(String source) {
        C old = changes.remove(source);
        if (old != null) {
            changed(old.diskName());
        }
        return Optional.ofNullable(old);
    }

    /** The change in force for {@code diskName}: of those that name it, the one updated last. */
    public synchronized Optional<C> changeFor(String diskName) {
        C found = null;
        for (C c : changes.values()) {
            if (c.diskName().equals(diskName)) {
                found = c;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The live objects of {@code diskName}, in order of registration. */
    public synchronized List<D> live(String diskName) {
        return List.copyOf(open.getOrDefault(diskName, List.of()));
    }

    private void changed(String diskName) {
        Optional<C> change = changeFor(diskName);
        for (D live : open.getOrDefault(diskName, List.of())) {
            target.superseded(live);
            target.apply(live, change);
        }
    }
}
