package org.diskhost.frontend.nbd;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.diskhost.api.resolve.ResolveError;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;

/**
 * The NBD server's configuration (Configuration Admin PID {@value NbdServerComponent#PID}).
 *
 * @param listen the TCP address, or empty for no TCP listener
 * @param unixSocket the Unix socket path, or empty for none
 * @param exports the exports, or empty to export every disk under its own name
 * @param defaultExport the export a client gets when it asks for the empty name; empty: the only export, if there
 *        is exactly one
 * @param maxConnections connections served at once; more are closed at once
 * @param connectionMemory the payload memory of one connection, in bytes (its memory bound)
 * @param maxPayload the largest read or write request, in bytes
 * @param handshakeTimeout how long a client may take to pick an export
 */
record NbdOptions(Optional<InetSocketAddress> listen, Optional<Path> unixSocket, Optional<List<ExportConfig>> exports,
        Optional<String> defaultExport, int maxConnections, long connectionMemory, int maxPayload,
        Duration handshakeTimeout) {

    static final String DEFAULT_LISTEN = "127.0.0.1:10809";

    /** One configured export: {@code name=disk}, optionally {@code ;readOnly}. */
    record ExportConfig(String name, String disk, boolean readOnly) {
        static ExportConfig parse(String entry) {
            String[] parts = entry.split(";");
            String[] nameAndDisk = parts[0].split("=", 2);
            String name = nameAndDisk[0].trim();
            String disk = nameAndDisk.length == 2 ? nameAndDisk[1].trim() : name;
            boolean readOnly = false;
            for (int i = 1; i < parts.length; i++) {
                String flag = parts[i].trim();
                if (flag.equalsIgnoreCase("readOnly") || flag.equalsIgnoreCase("ro")) {
                    readOnly = true;
                } else if (!flag.isEmpty()) {
                    throw new IllegalArgumentException("unknown export option '" + flag + "' in \"" + entry + "\"");
                }
            }
            if (disk.isEmpty()) {
                throw new IllegalArgumentException("\"" + entry + "\" names no disk (write \"export=disk\")");
            }
            if (name.length() > Handshake.MAX_STRING) {
                throw new IllegalArgumentException("export name longer than " + Handshake.MAX_STRING + " bytes");
            }
            return new ExportConfig(name, disk, readOnly);
        }
    }

    /**
     * Reads the configuration properties; relative socket paths are relative to {@code baseDirectory}.
     *
     * @throws IllegalArgumentException naming the setting at fault
     */
    static NbdOptions parse(Map<String, ?> properties, Path baseDirectory) {
        Settings s = Settings.of("nbd", "nbd", properties, baseDirectory);
        String listen = setting(s, "listen", n -> s.optionalString(n).orElse(DEFAULT_LISTEN)).trim();
        Optional<InetSocketAddress> address = listen.isEmpty() || listen.equalsIgnoreCase("none")
                ? Optional.empty()
                : Optional.of(address(listen));
        Optional<Path> unixSocket = setting(s, "unixSocket", s::optionalPath);
        Optional<List<ExportConfig>> exports = exports(properties.get("exports"));
        Optional<String> defaultExport = setting(s, "defaultExport", s::optionalString);
        long maxConnections = setting(s, "maxConnections", n -> s.integer(n, 64));
        long connectionMemory = setting(s, "connectionMemory", n -> s.optionalSize(n).orElse(128L << 20));
        long maxPayload = setting(s, "maxPayload", n -> s.optionalSize(n).orElse(64L << 20));
        Duration handshakeTimeout = setting(s, "handshakeTimeout", n -> s.duration(n, Duration.ofSeconds(10)));
        if (address.isEmpty() && unixSocket.isEmpty()) {
            throw invalid("listen", "no TCP address and no unixSocket: the server would not be reachable");
        }
        if (maxConnections < 1 || maxConnections > 65536) {
            throw invalid("maxConnections", "must be between 1 and 65536, got " + maxConnections);
        }
        if (maxPayload < (1 << 20) || maxPayload > (1L << 30)) {
            throw invalid("maxPayload", "must be between 1 MiB and 1 GiB, got " + maxPayload + " bytes");
        }
        if (connectionMemory < 2 * maxPayload) {
            throw invalid("connectionMemory", "must be at least twice maxPayload (" + 2 * maxPayload
                    + " bytes), got " + connectionMemory);
        }
        if (handshakeTimeout.isZero() || handshakeTimeout.isNegative()) {
            throw invalid("handshakeTimeout", "must be positive");
        }
        if (defaultExport.isPresent() && exports.isPresent()
                && exports.get().stream().noneMatch(e -> e.name().equals(defaultExport.get()))) {
            throw invalid("defaultExport", "'" + defaultExport.get() + "' is not one of the exports");
        }
        return new NbdOptions(address, unixSocket, exports, defaultExport, (int) maxConnections, connectionMemory,
                (int) maxPayload, handshakeTimeout);
    }

    private static Optional<List<ExportConfig>> exports(Object value) {
        if (value == null) {
            return Optional.empty();
        }
        List<String> entries = new ArrayList<>();
        if (value instanceof String s) {
            for (String part : s.split(",")) {
                if (!part.isBlank()) {
                    entries.add(part);
                }
            }
        } else if (value instanceof String[] array) {
            entries.addAll(List.of(array));
        } else if (value instanceof Iterable<?> list) {
            list.forEach(e -> entries.add(String.valueOf(e)));
        } else {
            throw invalid("exports", "must be a list of \"export=disk\" entries, got " + value);
        }
        Map<String, ExportConfig> byName = new LinkedHashMap<>();
        for (String entry : entries) {
            ExportConfig export;
            try {
                export = ExportConfig.parse(entry);
            } catch (IllegalArgumentException e) {
                throw invalid("exports", e.getMessage());
            }
            if (byName.put(export.name(), export) != null) {
                throw invalid("exports", "export '" + export.name() + "' is listed twice");
            }
        }
        return Optional.of(List.copyOf(byName.values()));
    }

    private static InetSocketAddress address(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw invalid("listen", "must be host:port, got \"" + text + "\"");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw invalid("listen", "bad port in \"" + text + "\"");
        }
        if (port < 0 || port > 65535) {
            throw invalid("listen", "port out of range in \"" + text + "\"");
        }
        return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, port);
    }

    /** Reads one setting with {@link Settings}' parsers, turning its errors into this configuration's. */
    private static <T> T setting(Settings settings, String name, Function<String, T> read) {
        try {
            return read.apply(name);
        } catch (ResolveException e) {
            String problem = e.error() instanceof ResolveError.ParseError p ? p.problem() : e.getMessage();
            throw invalid(name, problem);
        }
    }

    static IllegalArgumentException invalid(String setting, String problem) {
        return new IllegalArgumentException("NBD server setting '" + setting + "': " + problem);
    }
}
