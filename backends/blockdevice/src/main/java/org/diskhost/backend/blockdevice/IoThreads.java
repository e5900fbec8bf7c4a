package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The disk's platform threads for calls that block: ioctls (discard, eject, reservations) and every transfer of the
 * threads engine. Platform threads, because a blocking native call would pin a virtual thread's carrier; they time
 * out when idle, so a uring disk that never discards keeps none.
 */
final class IoThreads implements AutoCloseable {
    private final ThreadPoolExecutor executor;

    IoThreads(String name, int threads) {
        AtomicInteger number = new AtomicInteger();
        executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread t = new Thread(task, "diskhost-block-" + name + "-" + number.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code call} on one of the threads; its exception fails the future as it is. */
    <T> CompletableFuture<T> call(Callable<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(call.call());
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new IOException("the disk is closed"));
        }
        return result;
    }

    /** Lets queued calls finish; true when all ended within {@code seconds}. */
    boolean shutdown(long seconds) throws InterruptedException {
        executor.shutdown();
        return executor.awaitTermination(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
