package org.diskhost.host.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.diskhost.api.resolve.DiskResolver;
import org.osgi.framework.Constants;

/**
 * Resolver services of one type (disk or layer resolvers) by kind, best first: highest service ranking, then lowest
 * service id. Thread-safe.
 *
 * @param <R> the resolver service type
 */
final class ResolverRegistry<R> {
    private record Entry<R>(R resolver, int ranking, long serviceId) {
    }

    private final Function<R, String> kindOf;
    /** Guarded by itself. */
    private final Map<String, List<Entry<R>>> byKind = new HashMap<>();

    /** {@code kindOf} gives a resolver's own kind, used when its service has no kind property. */
    ResolverRegistry(Function<R, String> kindOf) {
        this.kindOf = kindOf;
    }

    /** Adds a resolver service; returns its kind. */
    String add(R resolver, Map<String, Object> properties) {
        String kind = kindOf(resolver, properties);
        synchronized (byKind) {
            List<Entry<R>> list = byKind.computeIfAbsent(kind, k -> new ArrayList<>());
            list.add(new Entry<>(resolver, ranking(properties), serviceId(properties)));
            list.sort(Comparator.<Entry<R>>comparingInt(Entry::ranking).reversed()
                    .thenComparingLong(Entry::serviceId));
        }
        return kind;
    }

    /** Removes a resolver service; returns its kind. */
    String remove(R resolver, Map<String, Object> properties) {
        String kind = kindOf(resolver, properties);
        synchronized (byKind) {
            List<Entry<R>> list = byKind.getOrDefault(kind, new ArrayList<>());
            list.removeIf(e -> e.resolver() == resolver);
            if (list.isEmpty()) {
                byKind.remove(kind);
            }
        }
        return kind;
    }

    /** The best resolver of {@code kind}, or null. */
    R get(String kind) {
        synchronized (byKind) {
            List<Entry<R>> list = byKind.get(kind);
            return list == null || list.isEmpty() ? null : list.getFirst().resolver();
        }
    }

    /** The kinds that have a resolver, sorted. */
    List<String> kinds() {
        synchronized (byKind) {
            List<String> kinds = new ArrayList<>(byKind.keySet());
            Collections.sort(kinds);
            return kinds;
        }
    }

    private String kindOf(R resolver, Map<String, Object> properties) {
        Object kind = properties.get(DiskResolver.KIND_PROPERTY);
        return kind instanceof String s ? s : kindOf.apply(resolver);
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }

    private static long serviceId(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_ID) instanceof Long l ? l : Long.MAX_VALUE;
    }
}
