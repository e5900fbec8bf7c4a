package org.diskhost.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx serving a directory on a free loopback port, run unprivileged ({@code nginx -p DIR -c CONF}, no
 * daemon) for tests of remote disks: 206 with {@code Content-Range}, strong ETags, 412 on a failed {@code If-Match},
 * 416 past the end. A missing nginx skips the test on a developer's machine and fails it under {@code CI} (see
 * {@link ExternalTools#require}), where {@code .ci/run} installs Debian's {@code nginx-light}.
 *
 * <pre>{@code
 * try (Nginx nginx = Nginx.serving(dir).config("location = /old.img { return 302 /disk.img; }").start(work)) {
 *     URI url = nginx.url("/disk.img");
 * }
 * }</pre>
 */
public final class Nginx implements AutoCloseable {
    private final Process process;
    private final Path prefix;
    private final int port;
    private final String scheme;

    private Nginx(Process process, Path prefix, int port, String scheme) {
        this.process = process;
        this.prefix = prefix;
        this.port = port;
        this.scheme = scheme;
    }

    /** An nginx to be started that serves the files under {@code root}. */
    public static Builder serving(Path root) {
        return new Builder(root);
    }

    /** The nginx binary: on the PATH, else Debian's {@code /usr/sbin/nginx} (not on every user's PATH). */
    public static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nginx"))) {
                return Path.of(dir, "nginx").toString();
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin/nginx")) ? "/usr/sbin/nginx" : "nginx";
    }

    public static final class Builder {
        private final Path root;
        private String extra = "";
        private Path certificate;
        private Path key;

        private Builder(Path root) {
            this.root = root;
        }

        /** Adds directives to the {@code server} block (locations, {@code return 302}, {@code etag off}). */
        public Builder config(String serverDirectives) {
            extra += serverDirectives + "\n";
            return this;
        }

        /** Serves https with this PEM certificate (chain) and key. */
        public Builder tls(Path certificate, Path key) {
            this.certificate = certificate;
            this.key = key;
            return this;
        }

        /**
         * Starts nginx with its configuration, logs and temporary files in {@code dir} and waits until it accepts
         * connections (at most 10 s).
         */
        public Nginx start(Path dir) throws IOException, InterruptedException {
            String nginx = binary();
            ExternalTools.require(nginx);
            Path prefix = Files.createDirectories(dir.resolve("nginx-" + System.nanoTime()));
            Files.createDirectories(prefix.resolve("logs"));
            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            // As root the workers would switch to "nobody", who cannot read a test's private directories.
            String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
            String tls = certificate == null ? ""
                    : "ssl_certificate " + certificate.toAbsolutePath() + ";\nssl_certificate_key "
                            + key.toAbsolutePath() + ";\n";
            String conf = user + """
                    worker_processes 1;
                    daemon off;
                    pid %1$s/nginx.pid;
                    error_log %1$s/logs/error.log warn;
                    events { worker_connections 1024; }
                    http {
                        access_log off;
                        client_body_temp_path %1$s/body;
                        proxy_temp_path %1$s/proxy;
                        fastcgi_temp_path %1$s/fastcgi;
                        uwsgi_temp_path %1$s/uwsgi;
                        scgi_temp_path %1$s/scgi;
                        default_type application/octet-stream;
                        sendfile on;
                        keepalive_requests 100000;
                        server {
                            listen 127.0.0.1:%2$d%3$s;
                            root %4$s;
                            %5$s
                            %6$s
                        }
                    }
                    """.formatted(prefix.toAbsolutePath(), port, certificate == null ? "" : " ssl",
                    root.toAbsolutePath(), tls, extra);
            Path confFile = prefix.resolve("nginx.conf");
            Files.writeString(confFile, conf);
            Process process = new ProcessBuilder(List.of(nginx, "-p", prefix.toAbsolutePath() + "/", "-c",
                    confFile.toAbsolutePath().toString()))
                    .redirectErrorStream(true).redirectOutput(prefix.resolve("logs/stdout.log").toFile()).start();
            Nginx started = new Nginx(process, prefix, port, certificate == null ? "http" : "https");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return started;
                } catch (IOException notYet) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        String why = started.log();
                        started.close();
                        fail("nginx did not start on port " + port + ":\n" + why);
                    }
                    Thread.sleep(20);
                }
            }
        }
    }

    public int port() {
        return port;
    }

    /** The URL of {@code path} (starting with {@code /}) on this server. */
    public URI url(String path) {
        return URI.create(scheme + "://127.0.0.1:" + port + path);
    }

    /** nginx's own output and error log, for failure messages. */
    public String log() throws IOException {
        StringBuilder s = new StringBuilder();
        for (String name : List.of("logs/stdout.log", "logs/error.log")) {
            Path p = prefix.resolve(name);
            if (Files.exists(p)) {
                s.append(Files.readString(p));
            }
        }
        return s.toString();
    }

    /** Stops nginx (SIGTERM, then SIGKILL after 10 s) and waits for it, workers included. */
    @Override
    public void close() {
        List<ProcessHandle> workers = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.forEach(ProcessHandle::destroyForcibly);
    }
}
