package org.diskhost.backend.vhd;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;

/**
 * The threads a disk or layer of image files runs its blocking file I/O on, so that its callers never block. A
 * failure completes the request's future with a {@link DiskException}: {@code Io} for an {@link IOException} or an
 * unexpected exception, with the owner's name and the cause's message.
 */
final class IoThreads {
    private final String owner;
    private final ThreadPoolExecutor executor;

    /** A blocking request. */
    @FunctionalInterface
    interface Blocking {
        void run() throws IOException;
    }

    /**
     * @param owner names the disk or layer in thread names and messages ("vhd disk child.vhd")
     * @param threads requests that run at once; idle threads end after 30 s
     */
    IoThreads(String owner, int threads) {
        this.owner = owner;
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    // Platform threads: FileChannel I/O pins a virtual thread's carrier anyway.
                    Thread t = new Thread(task, "diskhost-" + owner.replace(' ', '-') + "-" + threadNumber
                            .incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code request} on a thread of its own; the future completes when it has. */
    CompletableFuture<Void> submit(Blocking request) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    request.run();
                    result.complete(null);
                } catch (DiskException e) {
                    result.completeExceptionally(e);
                } catch (IOException | RuntimeException e) {
                    result.completeExceptionally(new DiskException(new DiskError.Io(e), owner + ": "
                            + e.getMessage()));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new DiskException(new DiskError.Io(new IOException(owner + " is closed"))));
        }
        return result;
    }

    /**
     * Refuses new requests and waits up to 30 s for those queued and running.
     *
     * @return whether all finished: only then may the files they use be closed
     */
    boolean shutdown() {
        executor.shutdown();
        try {
            return executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
