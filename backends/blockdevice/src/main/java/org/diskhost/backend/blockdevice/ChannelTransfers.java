package org.diskhost.backend.blockdevice;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The threads engine, where io_uring is missing or refused: positional {@link FileChannel} transfers on the disk's
 * platform I/O threads, through the page cache (no O_DIRECT). A FUA write is followed by a data sync, and holes
 * cannot be punched, so a regular file then ignores unmap.
 */
final class ChannelTransfers implements Transfers {
    private final FileChannel channel;
    private final IoThreads threads;

    ChannelTransfers(FileChannel channel, IoThreads threads) {
        this.channel = channel;
        this.threads = threads;
    }

    @Override
    public String describe() {
        return "FileChannel on the disk's I/O threads";
    }

    @Override
    public CompletableFuture<Integer> read(List<MemorySegment> segments, long offset) {
        return threads.call(() -> {
            long position = offset;
            for (MemorySegment segment : segments) {
                ByteBuffer buffer = segment.asByteBuffer();
                while (buffer.hasRemaining()) {
                    int n = channel.read(buffer, position);
                    if (n < 0) {
                        return (int) (position - offset); // end of device: short
                    }
                    position += n;
                }
            }
            return (int) (position - offset);
        });
    }

    @Override
    public CompletableFuture<Integer> write(List<MemorySegment> segments, long offset, boolean dsync) {
        return threads.call(() -> {
            long bytes = 0;
            for (MemorySegment segment : segments) {
                bytes += segment.byteSize();
            }
            // A write past the end would fail with an IOException that carries no errno: refuse it as the
            // kernel's short transfer would (the JDK sizes a block device with BLKGETSIZE64).
            if (offset + bytes > channel.size()) {
                return 0;
            }
            long position = offset;
            for (MemorySegment segment : segments) {
                ByteBuffer buffer = segment.asByteBuffer();
                while (buffer.hasRemaining()) {
                    position += channel.write(buffer, position);
                }
            }
            if (dsync) {
                channel.force(false);
            }
            return (int) (position - offset);
        });
    }

    @Override
    public CompletableFuture<Void> fsync() {
        return threads.call(() -> {
            channel.force(true);
            return 0;
        }).thenApply(done -> null);
    }

    @Override
    public boolean canPunchHoles() {
        return false;
    }

    @Override
    public CompletableFuture<Void> punchHole(long offset, long length) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no hole punching without io_uring"));
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // The disk closes its own descriptor; this one carried no unsynced state of its own.
        }
    }
}
