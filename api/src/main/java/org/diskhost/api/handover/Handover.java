package org.diskhost.api.handover;

import java.util.Map;
import java.util.Optional;

/**
 * The states a whole chain handed over, by each element's place in the chain (such as {@code crypt/0:delay}): what
 * the host keeps between tearing a chain down and building its successor.
 *
 * @param byPlace the states by place
 */
public record Handover(Map<String, HandoverState> byPlace) {
    /** No state: a first build. */
    public static final Handover NONE = new Handover(Map.of());

    public Handover {
        byPlace = Map.copyOf(byPlace);
    }

    /** The state handed over from {@code place}. */
    public Optional<HandoverState> at(String place) {
        return Optional.ofNullable(byPlace.get(place));
    }

    public boolean isEmpty() {
        return byPlace.isEmpty();
    }
}
