package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.buffers.RequestBuffers;

/** Assertions and helpers for disk tests. Every wait is bounded, so a hung request fails the test. */
public final class DiskAssertions {
    /** How long a single request may take before a test fails. */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private DiskAssertions() {
    }

    /** Waits for {@code request} and fails the test if it failed or hung. */
    public static <T> T succeeds(CompletableFuture<T> request) {
        try {
            return request.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("request failed: " + DiskError.of(e).message() + " (" + e.getCause() + ")", e);
        } catch (TimeoutException e) {
            throw new AssertionError("request did not complete within " + REQUEST_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for {@code request} to fail and returns its error. */
    public static DiskError fails(CompletableFuture<?> request) {
        try {
            request.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return DiskError.of(e);
        } catch (TimeoutException e) {
            throw new AssertionError("request did not complete within " + REQUEST_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return fail("request succeeded, but it should have failed");
    }

    /** Asserts that {@code request} fails with an error of type {@code expected}. */
    public static <E extends DiskError> E failsWith(Class<E> expected, CompletableFuture<?> request) {
        return assertInstanceOf(expected, fails(request));
    }

    /** A page-aligned native buffer of {@code length} bytes. */
    public static MemorySegment allocate(long length) {
        return Arena.ofAuto().allocate(Math.max(length, 1), 4096).asSlice(0, length);
    }

    /** Fills {@code segment} with a pattern derived from {@code seed}, different for every byte position. */
    public static MemorySegment pattern(MemorySegment segment, long seed) {
        long x = seed * 0x9E3779B97F4A7C15L + 1;
        for (long i = 0; i < segment.byteSize(); i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            segment.set(ValueLayout.JAVA_BYTE, i, (byte) x);
        }
        return segment;
    }

    /** A new buffer holding {@code pattern(seed)}. */
    public static MemorySegment pattern(long length, long seed) {
        return pattern(allocate(length), seed);
    }

    /** Reads {@code count} sectors from {@code sector}, failing the test on error. */
    public static MemorySegment read(Disk disk, long sector, long count) {
        MemorySegment into = allocate(count * disk.sectorSize());
        succeeds(disk.readVectored(RequestBuffers.of(into, true), sector));
        return into;
    }

    /** Writes {@code data} at {@code sector}, failing the test on error. */
    public static void write(Disk disk, long sector, MemorySegment data) {
        succeeds(disk.writeVectored(RequestBuffers.of(data, false), sector, false));
    }

    /** Asserts two segments hold the same bytes, naming the first difference. */
    public static void assertSameBytes(MemorySegment expected, MemorySegment actual, String what) {
        long mismatch = expected.mismatch(actual);
        if (mismatch != -1) {
            fail(what + ": bytes differ at offset " + mismatch + " (sizes " + expected.byteSize() + " and "
                    + actual.byteSize() + ")");
        }
    }

    /** True when every byte of {@code segment} is zero. */
    public static boolean isZero(MemorySegment segment) {
        for (long i = 0; i < segment.byteSize(); i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }
}
