package org.diskhost.frontend.nbd;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Runs asynchronous steps one after another. Unaligned writes of a disk go through one queue, so that two clients
 * writing different bytes of the same sector (each a read-modify-write of the whole sector) cannot lose each other's
 * bytes.
 */
final class SerialQueue {
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);

    /** Starts {@code step} once every step submitted before it has finished, successfully or not. */
    synchronized <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> step) {
        CompletableFuture<T> result = tail.handle((v, t) -> null).thenCompose(v -> {
            try {
                return step.get();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        });
        tail = result.handle((v, t) -> null);
        return result;
    }
}
