package org.diskhost.backend.striped;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.DiskError;
import org.diskhost.api.DiskException;
import org.diskhost.api.ForwardingDiskIo;
import org.diskhost.api.buffers.RequestBuffers;

/**
 * A member for tests: forwards to the disk below, records each request, can fail requests with a chosen error, and
 * can hold completions until {@link #release()} (to see that requests were issued without waiting for each other).
 */
final class RecordingDisk extends ForwardingDiskIo {
    /** One request as the member saw it. */
    record Call(String op, long sector, long count) {
    }

    private final List<Call> calls = new ArrayList<>();
    private volatile DiskError failWith;
    private CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    RecordingDisk(Disk inner) {
        super(inner);
    }

    @Override
    public String diskType() {
        return "recording";
    }

    synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    void failWith(DiskError error) {
        this.failWith = error;
    }

    /** Completions wait for {@link #release()} from now on. */
    synchronized void hold() {
        gate = new CompletableFuture<>();
    }

    void release() {
        CompletableFuture<Void> g;
        synchronized (this) {
            g = gate;
        }
        g.complete(null);
    }

    private CompletableFuture<Void> record(String op, long sector, long count, CompletableFuture<Void> work) {
        CompletableFuture<Void> g;
        synchronized (this) {
            calls.add(new Call(op, sector, count));
            g = gate;
        }
        DiskError error = failWith;
        CompletableFuture<Void> result = error != null ? DiskException.failed(error) : work;
        return g.thenCompose(v -> result);
    }

    @Override
    public CompletableFuture<Void> readVectored(RequestBuffers buffers, long sector) {
        return record("read", sector, buffers.length() / sectorSize(), super.readVectored(buffers, sector));
    }

    @Override
    public CompletableFuture<Void> writeVectored(RequestBuffers buffers, long sector, boolean fua) {
        return record("write", sector, buffers.length() / sectorSize(), super.writeVectored(buffers, sector, fua));
    }

    @Override
    public CompletableFuture<Void> syncCache() {
        return record("sync", 0, 0, super.syncCache());
    }

    @Override
    public CompletableFuture<Void> unmap(long sector, long count, boolean blockLevelOnly) {
        return record("unmap", sector, count, super.unmap(sector, count, blockLevelOnly));
    }

    @Override
    public CompletableFuture<Void> eject() {
        return record("eject", 0, 0, CompletableFuture.completedFuture(null));
    }
}
