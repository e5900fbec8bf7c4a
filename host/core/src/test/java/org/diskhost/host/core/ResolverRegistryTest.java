package org.diskhost.host.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.diskhost.api.resolve.DiskResolver;
import org.osgi.framework.Constants;
import org.junit.jupiter.api.Test;

class ResolverRegistryTest {

    @Test
    void theBestResolverOfAKindIsTheHighestRankedThenTheOldest() {
        ResolverRegistry<String> registry = new ResolverRegistry<>(r -> r.substring(0, 1));
        registry.add("a-old", Map.of(Constants.SERVICE_ID, 1L));
        registry.add("a-new", Map.of(Constants.SERVICE_ID, 2L));
        registry.add("a-ranked", Map.of(Constants.SERVICE_ID, 3L, Constants.SERVICE_RANKING, 5));
        registry.add("other", Map.of(DiskResolver.KIND_PROPERTY, "z", Constants.SERVICE_ID, 4L));
        assertEquals("a-ranked", registry.get("a"));
        assertEquals("other", registry.get("z"), "the kind property wins over the resolver's own kind");
        assertEquals(List.of("a", "z"), registry.kinds());
        assertEquals("a", registry.remove("a-ranked", Map.of()));
        assertEquals("a-old", registry.get("a"));
        registry.remove("a-old", Map.of());
        registry.remove("a-new", Map.of());
        assertNull(registry.get("a"));
        assertEquals(List.of("z"), registry.kinds());
    }
}
