package org.diskhost.backend.layered;

import static org.diskhost.testkit.WrapperContract.assertOverridesEveryMethod;

import java.util.Map;

import org.diskhost.api.layer.LayerIo;
import org.junit.jupiter.api.Test;

/** The layers that wrap something forward every {@link LayerIo} method, so a new one cannot be dropped silently. */
class LayerWrappersTest {

    @Test
    void aDiskAsALayerForwardsEveryMethod() {
        assertOverridesEveryMethod(DiskLayer.class, LayerIo.class, Map.of(
                "writeNoOverwrite", "a disk has no no-overwrite write, so it cannot be a read cache",
                "close", "whoever resolved the disk closes it, not the layer"));
    }

    @Test
    void theTestsForwardingLayerForwardsEveryMethod() {
        assertOverridesEveryMethod(ForwardingLayer.class, LayerIo.class, Map.of());
    }
}
