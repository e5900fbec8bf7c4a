package org.diskhost.itests;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tests of the launcher process share: a directory of their own for the configuration, data and deploy
 * directories, and the host started there with {@link #start}, killed after each test if it still runs.
 */
abstract class LauncherTest {
    @TempDir
    Path dir;

    /** The host the test started, or null. */
    Launcher host;

    /** Starts {@code bin/diskhost} with {@code config} in {@link #dir} (see {@link Launcher#start(Path, Path)}). */
    Launcher start(Path config) throws IOException {
        host = Launcher.start(dir, config);
        return host;
    }

    /** As {@link #start(Path)}, with {@code environment} and {@code arguments} added (see {@link Launcher}). */
    Launcher start(Path config, java.util.Map<String, String> environment, String... arguments) throws IOException {
        host = Launcher.start(dir, config, environment, arguments);
        return host;
    }

    /** Starts {@code bin/diskhost} with a configuration given as JSON text. */
    Launcher start(String configJson) throws IOException {
        host = Launcher.start(dir, configJson);
        return host;
    }

    /** A TCP port on loopback that nobody listens on now. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    @AfterEach
    void killHost() {
        if (host != null) {
            host.close();
        }
    }
}
