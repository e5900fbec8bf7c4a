package org.diskhost.frontend.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.diskhost.api.Disk;
import org.diskhost.api.status.DiskStatus;
import org.diskhost.frontend.nbd.NbdOptions.ExportConfig;

/**
 * An NBD server: listeners (TCP and Unix socket), the connections they accept, and the table of exports, which
 * follows the disks as they come and go. The OSGi component feeds it; tests drive it directly.
 */
final class NbdServer implements Exports, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdServer.class.getName());

    private final NbdOptions options;
    private final Map<String, Disk> disks = new LinkedHashMap<>(); // guarded by this
    /** What the host says of each configured disk, by name: whether a client asking for it should wait. */
    private final Map<String, Status> statuses = new LinkedHashMap<>(); // guarded by this
    // Weak, and Disk has identity equality: a disk's gate lives as long as the disk, so requests still in flight on a
    // closed connection and those of a new connection after the disk was withdrawn and published again share it.
    private final Map<Disk, WriteGate> gates = new WeakHashMap<>(); // guarded by this
    private volatile Map<String, Export> exports = Map.of();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final List<String> endpoints = new ArrayList<>(); // guarded by this
    private final ScheduledExecutorService timer;
    private volatile InetSocketAddress tcpAddress;
    private volatile boolean stopped;

    NbdServer(NbdOptions options) {
        this.options = options;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nbd-handshake-timer");
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens the listeners and starts accepting connections. */
    synchronized void start() throws IOException {
        try {
            if (options.listen().isPresent()) {
                ServerSocketChannel tcp = ServerSocketChannel.open();
                tcp.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                tcp.bind(options.listen().get(), 128);
                tcpAddress = (InetSocketAddress) tcp.getLocalAddress();
                accept(tcp, "tcp " + tcpAddress.getAddress().getHostAddress() + ":" + tcpAddress.getPort());
            }
            if (options.unixSocket().isPresent()) {
                Path path = options.unixSocket().get();
                Files.createDirectories(path.toAbsolutePath().getParent());
                Files.deleteIfExists(path); // a socket left behind by a process that is gone
                ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                unix.bind(UnixDomainSocketAddress.of(path), 128);
                accept(unix, "unix " + path);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Where the server listens, as {@code tcp 127.0.0.1:10809} and {@code unix PATH}. */
    synchronized List<String> endpoints() {
        return List.copyOf(endpoints);
    }

    private void accept(ServerSocketChannel listener, String where) {
        listeners.add(listener);
        endpoints.add(where);
        LOG.info(() -> "NBD server listening on " + where);
        Thread.ofVirtual().name("nbd-accept " + where).start(() -> {
            int served = 0;
            while (!stopped) {
                SocketChannel channel;
                try {
                    channel = listener.accept();
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "NBD accept on " + where + " failed", e);
                    continue;
                }
                served++;
                String peer = peerName(channel, where, served);
                if (connections.size() >= options.maxConnections()) {
                    LOG.warning(() -> peer + ": refused, " + options.maxConnections() + " connections are open");
                    closeQuietly(channel);
                    continue;
                }
                try {
                    if (channel.getLocalAddress() instanceof InetSocketAddress) {
                        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    }
                } catch (IOException e) {
                    closeQuietly(channel);
                    continue;
                }
                Connection connection = new Connection(channel, peer, this, options, timer);
                connections.add(connection);
                // A platform thread per connection: woken by the kernel directly, it answers a queue-depth-1 client
                // in about half the time a virtual thread (woken through the JDK's poller) takes.
                Thread.ofPlatform().daemon().name("nbd " + peer).start(connection);
            }
        });
    }

    /** The bound TCP address (with the real port when the configuration said port 0). */
    public Optional<InetSocketAddress> tcpAddress() {
        return Optional.ofNullable(tcpAddress);
    }

    /** Makes {@code disk} available under its name (replacing a disk of that name); exports follow. */
    public synchronized void putDisk(String name, Disk disk) {
        disks.put(name, disk);
        rebuildExports();
        notifyAll();
    }

    /** Withdraws the disk called {@code name}; connections to its exports are closed. */
    public synchronized void removeDisk(String name) {
        if (disks.remove(name) != null) {
            rebuildExports();
            notifyAll();
        }
    }

    /** A configured disk's state, as the host reports it (see {@link DiskStatus}). */
    record Status(DiskStatus.State state, String reason) {
    }

    /** Records what the host says of the configured disk {@code name}: handshakes asking for it wait or are refused. */
    public synchronized void putStatus(String name, Status status) {
        statuses.put(name, status);
        notifyAll();
    }

    /** The disk {@code name} is no longer configured: a client asking for it is refused. */
    public synchronized void removeStatus(String name) {
        if (statuses.remove(name) != null) {
            notifyAll();
        }
    }

    private void rebuildExports() {
        Map<String, Export> next = new LinkedHashMap<>();
        List<ExportConfig> configured = options.exports().orElseGet(
                () -> disks.keySet().stream().map(d -> new ExportConfig(d, d, false)).toList());
        for (ExportConfig config : configured) {
            Disk disk = disks.get(config.disk());
            if (disk == null) {
                continue;
            }
            // One gate per disk: every export and connection of the disk goes through it.
            WriteGate gate = gates.computeIfAbsent(disk, d -> new WriteGate());
            String description = "disk '" + config.disk() + "' (" + disk.diskType() + ", " + disk.sectorCount()
                    + " x " + disk.sectorSize() + " B)" + (config.readOnly() ? ", read-only" : "");
            next.put(config.name(), new Export(config.name(), disk, config.readOnly(), description, gate));
        }
        exports = Map.copyOf(next);
        // A connection whose export is gone or now stands for another disk ends; the client reconnects.
        for (Connection c : connections) {
            c.export().ifPresent(e -> {
                if (!e.sameAs(exports.get(e.name()))) {
                    LOG.info(() -> c + ": export '" + e.name() + "' changed or went away; closing");
                    c.close();
                }
            });
        }
    }

    @Override
    public Optional<Export> find(String name) {
        Map<String, Export> current = exports;
        if (!name.isEmpty()) {
            return Optional.ofNullable(current.get(name));
        }
        if (options.defaultExport().isPresent()) {
            return Optional.ofNullable(current.get(options.defaultExport().get()));
        }
        return current.size() == 1 ? current.values().stream().findFirst() : Optional.empty();
    }

    @Override
    public synchronized Lookup await(String name, long deadlineNanos) throws InterruptedException {
        boolean told = false;
        while (true) {
            Optional<Export> export = find(name);
            if (export.isPresent()) {
                return new Lookup.Found(export.get());
            }
            if (stopped) {
                return new Lookup.Refused("the server is stopping");
            }
            Absence absence = absence(name);
            if (!absence.pending()) {
                return new Lookup.Refused(absence.message());
            }
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                LOG.info(() -> absence.message() + "; a client that waited for it is refused");
                return new Lookup.Refused(absence.message());
            }
            if (!told) {
                told = true;
                LOG.info(() -> absence.message() + "; a client waits for it");
            }
            // Woken by every change of the disks, their statuses and the server's state.
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Why there is no export {@code name} now: it is coming ({@code pending}), or it is unknown or failed. */
    private record Absence(boolean pending, String message) {
    }

    private Absence absence(String name) {
        Optional<List<ExportConfig>> configured = options.exports();
        String exportName = name;
        if (name.isEmpty()) {
            if (options.defaultExport().isPresent()) {
                exportName = options.defaultExport().get();
            } else if (configured.isPresent() && configured.get().size() == 1) {
                exportName = configured.get().getFirst().name();
            } else if (configured.isEmpty() && known().size() == 1) {
                exportName = known().iterator().next();
            } else {
                return new Absence(false, "no export named '' (there is no default export)");
            }
        }
        String disk = exportName;
        if (configured.isPresent()) {
            String wanted = exportName;
            Optional<ExportConfig> config = configured.get().stream().filter(c -> c.name().equals(wanted)).findFirst();
            if (config.isEmpty()) {
                return new Absence(false, "no export named '" + exportName + "'");
            }
            disk = config.get().disk();
        }
        Status status = statuses.get(disk);
        if (status == null) {
            // A configured export waits for its disk's configuration; otherwise the name is unknown.
            return configured.isPresent()
                    ? new Absence(true, "export '" + exportName + "': disk '" + disk + "' is not configured")
                    : new Absence(false, "no export named '" + exportName + "'");
        }
        boolean failed = status.state() == DiskStatus.State.FAILED;
        String state = "export '" + exportName + "': disk '" + disk + "' "
                + (failed ? "failed" : "is " + status.state().name().toLowerCase(java.util.Locale.ROOT))
                + (status.reason().isEmpty() ? "" : ": " + status.reason());
        return new Absence(!failed, state);
    }

    /** The names of the disks configured or served. */
    private Set<String> known() {
        Set<String> names = new java.util.LinkedHashSet<>(statuses.keySet());
        names.addAll(disks.keySet());
        return names;
    }

    @Override
    public List<Export> list() {
        return List.copyOf(exports.values());
    }

    /** Whether a connection that finished its handshake may go on (its export still stands). */
    boolean admit(Connection connection) {
        Optional<Export> export = connection.export();
        return !stopped && export.isPresent() && export.get().sameAs(exports.get(export.get().name()));
    }

    void closed(Connection connection) {
        connections.remove(connection);
    }

    /** Stops listening and closes every connection; requests in flight finish in the background. */
    @Override
    public synchronized void close() {
        stopped = true;
        for (ServerSocketChannel listener : listeners) {
            closeQuietly(listener);
        }
        listeners.clear();
        options.unixSocket().ifPresent(path -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                LOG.log(Level.FINE, "removing " + path, e);
            }
        });
        connections.forEach(Connection::close);
        timer.shutdownNow();
        notifyAll(); // handshakes waiting for an export end
    }

    private static String peerName(SocketChannel channel, String where, int number) {
        try {
            SocketAddress remote = channel.getRemoteAddress();
            if (remote instanceof InetSocketAddress inet) {
                return "nbd client " + inet.getAddress().getHostAddress() + ":" + inet.getPort();
            }
        } catch (IOException e) {
            // fall through to a generic name
        }
        return "nbd client #" + number + " on " + where;
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            LOG.log(Level.FINE, "close", e);
        }
    }
}
