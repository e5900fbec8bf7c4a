package org.diskhost.backend.blob.azure;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An Azure Storage account name and its key: signs requests with Shared Key authorization ("Authorize with Shared
 * Key", service version 2009-09-19 and later). The key never leaves this object: {@link #toString()} and every
 * error message leave it out.
 */
public final class SharedKey {
    /** The standard headers signed in this order, before the canonicalized {@code x-ms-} headers. */
    private static final List<String> SIGNED_HEADERS = List.of("content-encoding", "content-language",
            "content-length", "content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match",
            "if-unmodified-since", "range");

    private final String account;
    private final SecretKeySpec key;

    private SharedKey(String account, byte[] key) {
        if (account.isEmpty() || !account.chars().allMatch(c -> c < 128 && Character.isLetterOrDigit(c))) {
            throw new IllegalArgumentException("the account name must be letters and digits, not '" + account + "'");
        }
        this.account = account;
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /**
     * The key of {@code account} as the portal shows it (base64).
     *
     * @throws IllegalArgumentException if the key is not base64 (the message does not repeat it)
     */
    public static SharedKey of(String account, String base64Key) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64Key.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the account key is not base64 (" + base64Key.strip().length()
                    + " characters)", null);
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("the account key is empty");
        }
        return new SharedKey(account, bytes);
    }

    /** The key of {@code account} from a file that holds it in base64 (surrounding white space ignored). */
    public static SharedKey fromFile(String account, Path keyFile) throws IOException {
        return of(account, Files.readString(keyFile, StandardCharsets.US_ASCII));
    }

    public String account() {
        return account;
    }

    /**
     * The {@code Authorization} header value for a request.
     *
     * @param headers the request's headers as sent (names in any case, one value each); {@code x-ms-date} must be
     *        among them
     * @param contentLength the body's length, which the HTTP client adds by itself and so is not among
     *        {@code headers}; 0 for no body
     */
    public String authorization(String method, URI uri, Map<String, String> headers, long contentLength) {
        return "SharedKey " + account + ":" + sign(stringToSign(method, uri, headers, contentLength));
    }

    /** The string Shared Key signs, for tests. */
    String stringToSign(String method, URI uri, Map<String, String> headers, long contentLength) {
        TreeMap<String, String> lower = new TreeMap<>();
        headers.forEach((name, value) -> lower.merge(name.toLowerCase(Locale.ROOT), unfold(value),
                (a, b) -> a + "," + b));
        // Since 2015-02-21 a zero Content-Length signs as the empty string.
        if (contentLength > 0) {
            lower.put("content-length", Long.toString(contentLength));
        } else {
            lower.remove("content-length");
        }
        StringBuilder s = new StringBuilder(method.toUpperCase(Locale.ROOT)).append('\n');
        for (String name : SIGNED_HEADERS) {
            s.append(lower.getOrDefault(name, "")).append('\n');
        }
        lower.forEach((name, value) -> {
            if (name.startsWith("x-ms-")) {
                s.append(name).append(':').append(value).append('\n');
            }
        });
        return s.append(canonicalizedResource(uri)).toString();
    }

    /**
     * "/" account, the encoded path, then each query parameter (lower-case name, sorted; values decoded, sorted and
     * joined with commas) on its own line.
     */
    private String canonicalizedResource(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        StringBuilder s = new StringBuilder("/").append(account).append(path);
        TreeMap<String, List<String>> params = new TreeMap<>();
        String query = uri.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                params.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
            }
        }
        params.forEach((name, values) -> {
            List<String> sorted = new ArrayList<>(values);
            sorted.sort(null);
            s.append('\n').append(name).append(':').append(String.join(",", sorted));
        });
        return s.toString();
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Header values sign with folded white space (CRLF and the blanks after it) as one space, and trimmed. */
    private static String unfold(String value) {
        return value.replaceAll("\\r?\\n[ \\t]*", " ").strip();
    }

    private String sign(String stringToSign) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getEncoder().encodeToString(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            // HmacSHA256 is in every JDK, and the key is a plain byte array: this cannot happen.
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "SharedKey[account=" + account + ", key=(hidden)]";
    }
}
