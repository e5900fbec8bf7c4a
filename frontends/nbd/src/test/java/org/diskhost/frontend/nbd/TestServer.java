package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.ResolvedChain;
import org.diskhost.api.resolve.StandaloneResolution;
import org.diskhost.backend.file.FileDiskResolver;

/** An NBD server on a Unix socket (and an ephemeral TCP port) in a test directory, serving the disks it is given. */
final class TestServer implements AutoCloseable {
    final Path dir;
    final Path socket;
    final NbdServer server;
    private final List<ResolvedChain> chains = new ArrayList<>();

    private TestServer(Path dir, Map<String, Object> settings) throws IOException {
        this.dir = dir;
        this.socket = dir.resolve("nbd.sock");
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("listen", "127.0.0.1:0");
        all.put("unixSocket", socket.toString());
        all.putAll(settings);
        this.server = new NbdServer(NbdOptions.parse(all, dir));
        server.start();
    }

    static TestServer start(Path dir) throws IOException {
        return new TestServer(dir, Map.of());
    }

    static TestServer start(Path dir, Map<String, Object> settings) throws IOException {
        return new TestServer(dir, settings);
    }

    /** Serves {@code disk} under {@code name}. */
    TestServer disk(String name, Disk disk) {
        server.putDisk(name, disk);
        return this;
    }

    /** Opens a file disk ({@code create} bytes if missing) and serves it under {@code name}. */
    Disk fileDisk(String name, String file, long create) {
        ResolvedChain chain = StandaloneResolution.of(dir, new FileDiskResolver())
                .resolve(name, Map.of("kind", "file", "path", file, "create", create), false).join();
        chains.add(chain);
        server.putDisk(name, chain.disk());
        return chain.disk();
    }

    /** The NBD URI of an export over the Unix socket, as qemu and libnbd write it. */
    String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    /** The NBD URI of an export over TCP. */
    String tcpUri(String export) {
        return "nbd://127.0.0.1:" + server.tcpAddress().orElseThrow().getPort() + "/" + export;
    }

    int tcpPort() {
        return server.tcpAddress().orElseThrow().getPort();
    }

    @Override
    public void close() {
        server.close();
        chains.forEach(ResolvedChain::close);
    }
}
