package org.diskhost.api.layer;

import java.util.concurrent.CompletableFuture;

import org.diskhost.api.buffers.RequestBuffers;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A layer's write that stores only the sectors it does not hold yet, leaving the ones it holds unchanged: how a
 * layered disk fills a read cache with what it read from the layers below, without overwriting newer data. See
 * {@link LayerIo#writeNoOverwrite()}.
 */
@ConsumerType
@FunctionalInterface
public interface WriteNoOverwrite {

    /**
     * Stores {@code buffers.length() / sectorSize} sectors from {@code sector} that the layer does not hold, and
     * marks them held; sectors it holds are skipped. Allowed on a {@linkplain LayerIo#isLogicallyReadOnly() logically
     * read-only} layer.
     *
     * @return fails with {@code IllegalBlock} for a range outside the layer, {@code Io} when the store fails
     */
    CompletableFuture<Void> write(RequestBuffers buffers, long sector);
}
