package org.diskhost.frontend.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The reply writer over a real loopback socket: whole replies in order, and no sender ever waits for the client. */
class ReplyWriterTest {

    /** A connected pair: [0] the server's side (non-blocking, for the writer), [1] the client's (blocking). */
    private static SocketChannel[] pair() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            SocketChannel server = listener.accept();
            server.configureBlocking(false);
            return new SocketChannel[] {server, client};
        }
    }

    /** Reply {@code i}: a 16-byte header holding {@code i} and {@code size} bytes of data that depend on it. */
    private static ByteBuffer[] reply(int i, int size) {
        ByteBuffer header = ByteBuffer.allocate(16).putInt(i).putInt(size).putLong(~i).flip();
        ByteBuffer data = ByteBuffer.allocateDirect(size);
        for (int k = 0; k < size; k++) {
            data.put((byte) (i + k));
        }
        return new ByteBuffer[] {header, data.flip()};
    }

    @Test
    @Timeout(60)
    void sendersNeverWaitForAClientThatDoesNotReadAndRepliesArriveWholeInOrder() throws Exception {
        SocketChannel[] p = pair();
        AtomicInteger closed = new AtomicInteger();
        ReplyWriter writer = new ReplyWriter(p[0], "test", closed::incrementAndGet);
        Thread thread = Thread.ofPlatform().start(writer);
        int replies = 400;
        int size = 16 * 1024; // 6 MiB in all: far more than the socket buffers hold while the client reads nothing
        CountDownLatch done = new CountDownLatch(replies);
        long start = System.nanoTime();
        for (int i = 0; i < replies; i++) {
            writer.send(reply(i, size), done::countDown, i % 3 != 0); // direct and handed over, mixed
        }
        long sendMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(sendMillis < 5000, "sending took " + sendMillis + " ms while the client read nothing");
        assertTrue(done.getCount() > 0, "everything was sent although the client read nothing");

        ByteBuffer in = ByteBuffer.allocate(16 + size);
        for (int i = 0; i < replies; i++) {
            in.clear();
            while (in.hasRemaining()) {
                p[1].read(in);
            }
            in.flip();
            assertEquals(i, in.getInt(), "reply order");
            assertEquals(size, in.getInt());
            assertEquals(~i, in.getLong());
            for (int k = 0; k < size; k++) {
                assertEquals((byte) (i + k), in.get(), "byte " + k + " of reply " + i);
            }
        }
        assertTrue(done.await(10, TimeUnit.SECONDS), "every reply's callback ran");
        writer.finish();
        thread.join();
        assertEquals(0, closed.get());
        p[0].close();
        p[1].close();
    }

    @Test
    @Timeout(60)
    void aBrokenConnectionDropsRepliesRunsTheirCallbacksAndClosesTheConnection() throws Exception {
        SocketChannel[] p = pair();
        AtomicInteger closed = new AtomicInteger();
        ReplyWriter writer = new ReplyWriter(p[0], "test", () -> {
            closed.incrementAndGet();
            try {
                p[0].close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        Thread thread = Thread.ofPlatform().start(writer);
        p[1].setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        p[1].close(); // a reset: the next writes fail
        int replies = 200;
        CountDownLatch done = new CountDownLatch(replies);
        for (int i = 0; i < replies; i++) {
            writer.send(reply(i, 64 * 1024), done::countDown, i % 2 == 0);
            Thread.sleep(1);
        }
        assertTrue(done.await(10, TimeUnit.SECONDS), "every reply's callback ran, sent or dropped");
        assertTrue(closed.get() >= 1, "the connection was closed");
        writer.finish();
        thread.join();
    }
}
