package org.diskhost.backend.blob.azure;

import java.net.URI;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Completes the headers of every request to an Azure blob: the pinned {@code x-ms-version}, {@code x-ms-date},
 * {@code x-ms-range} mirroring a {@code Range} header (the service reads {@code x-ms-range} first, and it carries
 * offsets past 4 GiB on every service version), and, with a {@link SharedKey}, the {@code Authorization} header
 * signed over the final headers. With a SAS token (it travels in the URL's query) or anonymous access it adds no
 * {@code Authorization}.
 */
public final class AzureSigner {
    /**
     * The REST version diskhost speaks: every behaviour it relies on (page ranges with markers, lease actions) is in
     * it, and Azurite 3.37 accepts it (it refuses versions newer than it knows).
     */
    public static final String VERSION = "2025-11-05";

    private static final DateTimeFormatter RFC1123 =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Optional<SharedKey> key;
    private final Clock clock;

    public AzureSigner(Optional<SharedKey> key) {
        this(key, Clock.systemUTC());
    }

    AzureSigner(Optional<SharedKey> key, Clock clock) {
        this.key = key;
        this.clock = clock;
    }

    public Optional<SharedKey> key() {
        return key;
    }

    /**
     * Adds the headers above to {@code headers} (a mutable map of the request's final headers, names as they will be
     * sent) for a request with {@code method} to {@code uri} and a body of {@code contentLength} bytes (0: none).
     */
    public void complete(String method, URI uri, Map<String, String> headers, long contentLength) {
        headers.put("x-ms-version", VERSION);
        headers.put("x-ms-date", RFC1123.format(clock.instant()));
        headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase("range")).findFirst()
                .ifPresent(range -> headers.put("x-ms-range", range.getValue()));
        key.ifPresent(k -> headers.put("Authorization", k.authorization(method, uri, headers, contentLength)));
    }

    @Override
    public String toString() {
        return "AzureSigner[" + key.map(SharedKey::toString).orElse("no Shared Key") + ", x-ms-version=" + VERSION + "]";
    }
}
