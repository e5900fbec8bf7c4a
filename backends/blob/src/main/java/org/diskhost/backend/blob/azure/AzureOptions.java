package org.diskhost.backend.blob.azure;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

import org.diskhost.api.resolve.Settings;

/**
 * The Azure settings of a blob disk. Azure mode (the pinned {@code x-ms-version}, {@code x-ms-date}, {@code x-ms-range}
 * on every request; Get Page Ranges for a page blob's allocation; writable page blobs) is on when the URL's host is
 * {@code *.blob.core.windows.net}, when the URL's query is a SAS token, when Shared Key or a SAS file is configured, or
 * when {@code azure} says so (an emulator or a custom domain).
 *
 * @param azure whether the blob is in Azure Blob Storage (or an emulator)
 * @param key the account and key that sign every request (Shared Key), if configured
 * @param sas a SAS token (without "?") read from {@code sasFile}, appended to every request's query
 * @param lease whether a writable disk holds a lease on its page blob while open
 * @param leaseSeconds the lease's duration: 15 to 60 s, or -1 (infinite)
 * @param resizePoll how often a writable disk asks for its page blob's length; zero: never
 */
public record AzureOptions(boolean azure, Optional<SharedKey> key, Optional<String> sas, boolean lease,
        int leaseSeconds, Duration resizePoll) {

    public static final String AZURE = "azure";
    public static final String ACCOUNT = "account";
    public static final String ACCOUNT_KEY = "accountKey";
    public static final String ACCOUNT_KEY_FILE = "accountKeyFile";
    public static final String SAS_FILE = "sasFile";
    public static final String LEASE = "lease";
    public static final String LEASE_DURATION = "leaseDuration";
    public static final String RESIZE_POLL_INTERVAL = "resizePollInterval";
    /** Every setting these options read; the rest of a blob disk's settings are the HTTP side's. */
    public static final String[] NAMES = {AZURE, ACCOUNT, ACCOUNT_KEY, ACCOUNT_KEY_FILE, SAS_FILE, LEASE,
        LEASE_DURATION, RESIZE_POLL_INTERVAL};

    static final int DEFAULT_LEASE_SECONDS = 30;
    static final Duration DEFAULT_RESIZE_POLL = Duration.ofSeconds(10);

    /** Reads the Azure settings of a blob disk at {@code url} (the {@code url} setting). */
    public static AzureOptions parse(Settings settings, URI url) {
        Optional<SharedKey> key = key(settings, url);
        Optional<String> sas = sas(settings);
        if (key.isPresent() && sas.isPresent()) {
            throw settings.invalid(SAS_FILE, "Shared Key (" + ACCOUNT_KEY + " or " + ACCOUNT_KEY_FILE
                    + ") and a SAS token authorize the same requests: set one of them");
        }
        String query = url.getRawQuery() == null ? "" : url.getRawQuery();
        if (sas.isPresent() && query.contains("sig=")) {
            throw settings.invalid(SAS_FILE, "the url already carries a SAS token in its query");
        }
        boolean recognised = url.getHost() != null
                && url.getHost().toLowerCase(Locale.ROOT).endsWith(".blob.core.windows.net")
                || query.contains("sig=") && query.contains("sv=") || key.isPresent() || sas.isPresent();
        boolean azure = settings.bool(AZURE, recognised);
        if (!azure && (key.isPresent() || sas.isPresent())) {
            throw settings.invalid(AZURE, "is false, but Shared Key or a SAS file is set: they are Azure settings");
        }
        boolean lease = settings.bool(LEASE, true);
        int leaseSeconds = leaseSeconds(settings);
        Duration resizePoll = settings.duration(RESIZE_POLL_INTERVAL, DEFAULT_RESIZE_POLL);
        if (!resizePoll.isZero() && resizePoll.compareTo(Duration.ofMillis(100)) < 0) {
            throw settings.invalid(RESIZE_POLL_INTERVAL, "must be 0 (never) or at least 100 ms, got "
                    + resizePoll.toMillis() + " ms");
        }
        if (!azure) {
            for (String name : new String[] {LEASE, LEASE_DURATION, RESIZE_POLL_INTERVAL}) {
                if (settings.has(name)) {
                    throw settings.invalid(name, "applies to Azure page blobs only, and this blob is not in Azure "
                            + "(set " + AZURE + ": true for an emulator or a custom domain)");
                }
            }
        }
        return new AzureOptions(azure, key, sas, lease, leaseSeconds, resizePoll);
    }

    private static Optional<SharedKey> key(Settings settings, URI url) {
        if (settings.has(ACCOUNT_KEY) && settings.has(ACCOUNT_KEY_FILE)) {
            throw settings.invalid(ACCOUNT_KEY_FILE, "set " + ACCOUNT_KEY + " or " + ACCOUNT_KEY_FILE + ", not both");
        }
        Optional<String> text;
        if (settings.has(ACCOUNT_KEY)) {
            // Checked here, not by optionalString: its error would quote the value, which is the key.
            if (!(settings.values().get(ACCOUNT_KEY) instanceof String s)) {
                throw settings.invalid(ACCOUNT_KEY, "must be a string (the key in base64)");
            }
            text = Optional.of(s);
        } else {
            Optional<Path> file = settings.optionalPath(ACCOUNT_KEY_FILE);
            try {
                text = file.isEmpty() ? Optional.empty()
                        : Optional.of(Files.readString(file.get(), StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw settings.invalid(ACCOUNT_KEY_FILE, "cannot read " + file.get() + ": " + e);
            }
        }
        if (text.isEmpty()) {
            if (settings.has(ACCOUNT)) {
                throw settings.invalid(ACCOUNT, "is set without " + ACCOUNT_KEY + " or " + ACCOUNT_KEY_FILE
                        + " (a SAS token goes in the url's query or in " + SAS_FILE + ")");
            }
            return Optional.empty();
        }
        String keySetting = settings.has(ACCOUNT_KEY) ? ACCOUNT_KEY : ACCOUNT_KEY_FILE;
        String account = settings.optionalString(ACCOUNT).or(() -> account(url)).orElseThrow(() -> settings.invalid(
                ACCOUNT, "missing: the url's host is not <account>.blob.core.windows.net, so name the account"));
        try {
            return Optional.of(SharedKey.of(account, text.get()));
        } catch (IllegalArgumentException e) {
            // SharedKey's messages never repeat the key.
            throw settings.invalid(e.getMessage().startsWith("the account name") ? ACCOUNT : keySetting,
                    e.getMessage());
        }
    }

    /**
     * The account a URL names: the host's first label for {@code <account>.blob.core.windows.net}, the first path
     * segment for an emulator's path-style URL ({@code http://127.0.0.1:10000/devstoreaccount1/container/blob}).
     */
    static Optional<String> account(URI url) {
        String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
        if (host.endsWith(".blob.core.windows.net")) {
            return Optional.of(host.substring(0, host.indexOf('.')));
        }
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        String[] segments = path.split("/");
        boolean pathStyle = host.equals("localhost") || host.matches("[0-9.]+") || host.startsWith("[");
        return pathStyle && segments.length > 3 ? Optional.of(segments[1]) : Optional.empty();
    }

    private static Optional<String> sas(Settings settings) {
        Optional<Path> file = settings.optionalPath(SAS_FILE);
        if (file.isEmpty()) {
            return Optional.empty();
        }
        String token;
        try {
            token = Files.readString(file.get(), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw settings.invalid(SAS_FILE, "cannot read " + file.get() + ": " + e);
        }
        token = token.startsWith("?") ? token.substring(1) : token;
        if (!token.contains("sig=") || token.contains("\n") || token.contains(" ")) {
            // Never the token itself.
            throw settings.invalid(SAS_FILE, file.get() + " does not hold a SAS token (one line of query "
                    + "parameters with sig=...)");
        }
        return Optional.of(token);
    }

    private static int leaseSeconds(Settings settings) {
        Object v = settings.values().get(LEASE_DURATION);
        if (v instanceof String s && s.strip().equalsIgnoreCase("infinite")) {
            return -1;
        }
        Duration d = settings.duration(LEASE_DURATION, Duration.ofSeconds(DEFAULT_LEASE_SECONDS));
        if (d.toMillis() % 1000 != 0 || d.toSeconds() < 15 || d.toSeconds() > 60) {
            throw settings.invalid(LEASE_DURATION, "must be 15 s to 60 s in whole seconds, or \"infinite\", got "
                    + d.toMillis() + " ms");
        }
        return (int) d.toSeconds();
    }

    /** The signer of every request: Shared Key if configured. */
    public AzureSigner signer() {
        return new AzureSigner(key);
    }

    /** {@code uri} with the SAS token of {@code sasFile} added to its query, if there is one. */
    public URI withSas(URI uri) {
        return sas.map(token -> URI.create(uri + (uri.getRawQuery() == null ? "?" : "&") + token)).orElse(uri);
    }

    /** Without the key or the token. */
    @Override
    public String toString() {
        return "AzureOptions[" + (azure ? "azure" : "not azure") + ", " + key.map(SharedKey::toString)
                .orElse(sas.isPresent() ? "SAS file" : "no key") + ", lease " + (lease ? leaseSeconds + " s" : "off")
                + ", resize poll " + resizePoll.toMillis() + " ms]";
    }
}
