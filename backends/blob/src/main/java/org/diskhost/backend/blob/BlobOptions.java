package org.diskhost.backend.blob;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.diskhost.api.resolve.Settings;

/**
 * The settings of a blob disk.
 *
 * @param url the blob: {@code http} or {@code https}, with any query (a SAS or presigned token) kept as given
 * @param format how the blob's bytes map to the disk
 * @param readOnly the disk refuses writes (plain HTTP is always read-only)
 * @param connections at most this many requests to the server at once, for all the disk's reads together
 * @param connectTimeout how long opening a TCP/TLS connection may take
 * @param requestTimeout how long one attempt of one request may take, headers and body together
 * @param retries how many times a failed request is retried (0: never)
 * @param retryDelay the first retry's delay; each further retry doubles it (with jitter)
 * @param retryMaxDelay the longest delay between attempts; a {@code Retry-After} asking for longer fails at once
 * @param chunkSize reads longer than this are split into ranges of this size, fetched in parallel
 * @param readahead how far ahead of a sequential reader to fetch, in blocks of {@code chunkSize} (0: no readahead)
 * @param caFile PEM certificates to trust for https, if set
 * @param systemTrust whether the JDK's default trust store is trusted too
 * @param headers extra request headers (a bearer token, a cookie): sent on every request, never printed
 */
record BlobOptions(URI url, Format format, boolean readOnly, int connections, Duration connectTimeout,
        Duration requestTimeout, int retries, Duration retryDelay, Duration retryMaxDelay, long chunkSize, long readahead,
        Optional<Path> caFile, boolean systemTrust, Map<String, String> headers) {

    /** How the blob's bytes are the disk's. */
    enum Format {
        /** The blob is the disk; a trailing partial sector is not part of it. */
        FLAT("flat"),
        /** A fixed VHD: the disk, then a 512-byte footer that is never served. */
        VHD1("vhd1");

        final String setting;

        Format(String setting) {
            this.setting = setting;
        }
    }

    static final String URL = "url";
    static final String FORMAT = "format";
    static final String READ_ONLY = "readOnly";
    static final String CONNECTIONS = "connections";
    static final String CONNECT_TIMEOUT = "connectTimeout";
    static final String REQUEST_TIMEOUT = "requestTimeout";
    static final String RETRIES = "retries";
    static final String RETRY_DELAY = "retryDelay";
    static final String RETRY_MAX_DELAY = "retryMaxDelay";
    static final String CHUNK_SIZE = "chunkSize";
    static final String READAHEAD = "readahead";
    static final String CA_FILE = "caFile";
    static final String SYSTEM_TRUST = "systemTrust";
    static final String HEADERS = "headers";

    static final int DEFAULT_CONNECTIONS = 8;
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final int DEFAULT_RETRIES = 5;
    static final Duration DEFAULT_RETRY_DELAY = Duration.ofMillis(100);
    static final Duration DEFAULT_RETRY_MAX_DELAY = Duration.ofSeconds(10);
    static final long DEFAULT_CHUNK_SIZE = 256 << 10;
    static final long DEFAULT_READAHEAD = 0;

    /** Headers the disk sets itself (or the HTTP client owns): a {@code headers} setting may not name them. */
    private static final Set<String> OWN_HEADERS = Set.of("range", "if-match", "if-unmodified-since", "host",
            "content-length", "connection", "upgrade", "expect", "te", "transfer-encoding", "x-ms-range");

    /** Reads and validates the settings; {@code forceReadOnly} comes from the user of the disk. */
    static BlobOptions parse(Settings settings, boolean forceReadOnly) {
        settings.allowOnly(URL, FORMAT, READ_ONLY, CONNECTIONS, CONNECT_TIMEOUT, REQUEST_TIMEOUT, RETRIES,
                RETRY_DELAY, RETRY_MAX_DELAY, CHUNK_SIZE, READAHEAD, CA_FILE, SYSTEM_TRUST, HEADERS);
        URI url = url(settings);
        Format format = switch (settings.optionalString(FORMAT).orElse("flat")) {
            case "flat" -> Format.FLAT;
            case "vhd1" -> Format.VHD1;
            case String other -> throw settings.invalid(FORMAT, "must be \"flat\" or \"vhd1\", got \"" + other + "\"");
        };
        boolean readOnly = settings.bool(READ_ONLY, true) || forceReadOnly;
        int connections = (int) range(settings, CONNECTIONS, DEFAULT_CONNECTIONS, 1, 256);
        Duration connectTimeout = positive(settings, CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT);
        Duration requestTimeout = positive(settings, REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT);
        int retries = (int) range(settings, RETRIES, DEFAULT_RETRIES, 0, 100);
        Duration retryDelay = settings.duration(RETRY_DELAY, DEFAULT_RETRY_DELAY);
        Duration retryMaxDelay = settings.duration(RETRY_MAX_DELAY, DEFAULT_RETRY_MAX_DELAY);
        if (retryMaxDelay.compareTo(retryDelay) < 0) {
            throw settings.invalid(RETRY_MAX_DELAY, "must be at least " + RETRY_DELAY + " (" + retryDelay.toMillis()
                    + " ms), got " + retryMaxDelay.toMillis() + " ms");
        }
        long chunkSize = settings.optionalSize(CHUNK_SIZE).orElse(DEFAULT_CHUNK_SIZE);
        if (chunkSize < 4096 || chunkSize % 512 != 0 || chunkSize > 1L << 30) {
            throw settings.invalid(CHUNK_SIZE, "must be a multiple of 512 from 4 KiB to 1 GiB, got " + chunkSize);
        }
        long readahead = settings.optionalSize(READAHEAD).orElse(DEFAULT_READAHEAD);
        if (readahead < 0 || readahead > 1L << 30) {
            throw settings.invalid(READAHEAD, "must be from 0 (none) to 1 GiB, got " + readahead);
        }
        Optional<Path> caFile = settings.optionalPath(CA_FILE);
        if (caFile.isPresent() && !Files.isReadable(caFile.get())) {
            throw settings.invalid(CA_FILE, "cannot read " + caFile.get());
        }
        boolean systemTrust = settings.bool(SYSTEM_TRUST, caFile.isEmpty());
        if (!systemTrust && caFile.isEmpty() && url.getScheme().equals("https")) {
            throw settings.invalid(SYSTEM_TRUST, "an https blob needs trusted certificates: set " + CA_FILE
                    + " or leave " + SYSTEM_TRUST + " true");
        }
        return new BlobOptions(url, format, readOnly, connections, connectTimeout, requestTimeout, retries,
                retryDelay, retryMaxDelay, chunkSize, readahead, caFile, systemTrust, headers(settings));
    }

    private static URI url(Settings settings) {
        String text = settings.string(URL);
        URI url;
        try {
            url = new URI(text.strip());
        } catch (URISyntaxException e) {
            // Not the text: a SAS or presigned URL carries a credential in its query.
            throw settings.invalid(URL, "not a valid URL: " + e.getReason() + " at index " + e.getIndex());
        }
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw settings.invalid(URL, "must be an http or https URL, got scheme \"" + scheme + "\"");
        }
        if (url.getHost() == null || url.getHost().isEmpty()) {
            throw settings.invalid(URL, "has no host: " + Redacted.uri(url));
        }
        if (url.getUserInfo() != null) {
            throw settings.invalid(URL, "must not carry a user name or password (use " + HEADERS
                    + " for an Authorization header)");
        }
        return url;
    }

    private static Map<String, String> headers(Settings settings) {
        Object value = settings.values().get(HEADERS);
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw settings.invalid(HEADERS, "must be an object of header names and string values");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            String name = String.valueOf(k);
            if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                throw settings.invalid(HEADERS, "\"" + name + "\" is not a header name");
            }
            if (OWN_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw settings.invalid(HEADERS, "the disk sets " + name + " itself");
            }
            if (!(v instanceof String s) || s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
                // The value is never shown: it is usually a credential.
                throw settings.invalid(HEADERS, "the value of " + name + " must be a one-line string");
            }
            headers.put(name, s);
        });
        return Collections.unmodifiableMap(headers);
    }

    private static long range(Settings settings, String name, long defaultValue, long min, long max) {
        long value = settings.integer(name, defaultValue);
        if (value < min || value > max) {
            throw settings.invalid(name, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    private static Duration positive(Settings settings, String name, Duration defaultValue) {
        Duration value = settings.duration(name, defaultValue);
        if (value.isZero()) {
            throw settings.invalid(name, "must be longer than 0");
        }
        return value;
    }

    /** The options without the header values, for inspect output. */
    @Override
    public String toString() {
        return "BlobOptions[" + Redacted.uri(url) + ", " + format.setting + ", headers " + headers.keySet() + "]";
    }
}
