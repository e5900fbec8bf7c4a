package org.diskhost.backend.crypt;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A small, bounded, lock-free pool of reusable objects: {@link #take()} hands out a pooled object or null (the
 * caller then makes one), {@link #give} keeps an object if a slot is free and drops it otherwise. So the pool holds
 * at most its capacity, however many threads pass through, and taking or giving never allocates.
 *
 * <p>Slots rather than a linked stack: an intrusive stack would reuse its nodes and suffer ABA.
 */
final class SlotPool<T> {
    private final AtomicReferenceArray<T> slots;

    SlotPool(int capacity) {
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** A pooled object, now owned by the caller, or null when the pool is empty. */
    T take() {
        for (int i = 0; i < slots.length(); i++) {
            T item = slots.getPlain(i);
            if (item != null && slots.compareAndSet(i, item, null)) {
                return item;
            }
        }
        return null;
    }

    /** Returns {@code item} to the pool; when every slot is taken it is dropped for the garbage collector. */
    void give(T item) {
        for (int i = 0; i < slots.length(); i++) {
            if (slots.getPlain(i) == null && slots.compareAndSet(i, null, item)) {
                return;
            }
        }
    }

    /** Empties the pool. */
    void clear() {
        for (int i = 0; i < slots.length(); i++) {
            slots.set(i, null);
        }
    }

    /** How many objects the pool holds now (for diagnostics). */
    int size() {
        int n = 0;
        for (int i = 0; i < slots.length(); i++) {
            if (slots.get(i) != null) {
                n++;
            }
        }
        return n;
    }
}
