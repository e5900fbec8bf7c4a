package org.diskhost.backend.file;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Portable file I/O with {@link FileChannel}, for platforms where {@link Posix} is unavailable: positional transfers
 * per segment, FUA through a second channel opened with DSYNC, no hole punching (unmap is then ignored), no O_DIRECT.
 */
final class ChannelFileIo implements FileIo {
    private final FileChannel channel;
    private final FileChannel dsyncChannel;

    private ChannelFileIo(FileChannel channel, FileChannel dsyncChannel) {
        this.channel = channel;
        this.dsyncChannel = dsyncChannel;
    }

    static ChannelFileIo open(Path path, boolean readOnly) throws IOException {
        if (readOnly) {
            return new ChannelFileIo(FileChannel.open(path, StandardOpenOption.READ), null);
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return new ChannelFileIo(channel, FileChannel.open(path, StandardOpenOption.WRITE,
                    StandardOpenOption.DSYNC));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "channel";
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public boolean needsNativeMemory() {
        return false;
    }

    @Override
    public void read(List<MemorySegment> segments, long offset) throws IOException {
        long position = offset;
        for (MemorySegment segment : segments) {
            ByteBuffer buffer = segment.asByteBuffer();
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, position);
                if (n < 0) {
                    throw new EOFException("end of file at byte " + position + ": the file is shorter than the disk");
                }
                position += n;
            }
        }
    }

    @Override
    public void write(List<MemorySegment> segments, long offset, boolean dsync) throws IOException {
        FileChannel target = dsync ? dsyncChannel : channel;
        long position = offset;
        for (MemorySegment segment : segments) {
            ByteBuffer buffer = segment.asByteBuffer();
            while (buffer.hasRemaining()) {
                position += target.write(buffer, position);
            }
        }
    }

    @Override
    public void sync() throws IOException {
        channel.force(true);
    }

    @Override
    public boolean canPunchHoles() {
        return false;
    }

    @Override
    public void punchHole(long offset, long length) {
        throw new UnsupportedOperationException("hole punching needs the native engine");
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (dsyncChannel != null) {
                dsyncChannel.close();
            }
        }
    }
}
