package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.diskhost.frontend.nbd.BufferPool.Buffer;
import org.junit.jupiter.api.Test;

class BufferPoolTest {
    private static final long MIB = 1 << 20;

    @Test
    void buffersAreExactAlignedAndReused() throws Exception {
        try (BufferPool pool = new BufferPool(4 * MIB)) {
            Buffer a = pool.acquire(5000);
            assertEquals(5000, a.segment().byteSize());
            assertEquals(0, a.segment().address() % 4096, "page aligned, for O_DIRECT");
            assertEquals(8192, pool.inUse(), "rounded up to a power of two");
            pool.release(a);
            Buffer b = pool.acquire(8000);
            assertSame(a, b, "the idle buffer of the same size is reused");
            pool.release(b);
            assertEquals(0, pool.inUse());
        }
    }

    @Test
    void theBudgetBoundsMemoryAndMakesRequestsWait() throws Exception {
        try (BufferPool pool = new BufferPool(4 * MIB)) {
            Buffer a = pool.acquire(2 * MIB);
            Buffer b = pool.acquire(2 * MIB);
            CompletableFuture<Buffer> c = CompletableFuture.supplyAsync(() -> {
                try {
                    return pool.acquire(MIB);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThrows(TimeoutException.class, () -> c.get(200, TimeUnit.MILLISECONDS), "over budget: waits");
            pool.release(a);
            Buffer got = c.get(5, TimeUnit.SECONDS);
            assertTrue(pool.allocated() <= 4 * MIB, "an idle 2 MiB buffer was freed to make room");
            pool.release(got);
            pool.release(b);
            assertFalse(pool.canServe(4 * MIB + 1));
            assertTrue(pool.canServe(4 * MIB));
            assertThrows(IllegalArgumentException.class, () -> pool.acquire(8 * MIB));
        }
    }

    @Test
    void closeFreesIdleBuffersAndThoseReturnedLater() throws Exception {
        BufferPool pool = new BufferPool(4 * MIB);
        Buffer lent = pool.acquire(4096);
        pool.release(pool.acquire(MIB));
        pool.close();
        assertEquals(4096, pool.allocated(), "only the lent buffer is left");
        pool.release(lent);
        assertEquals(0, pool.allocated());
        assertThrows(IllegalStateException.class, () -> pool.acquire(4096));
    }
}
