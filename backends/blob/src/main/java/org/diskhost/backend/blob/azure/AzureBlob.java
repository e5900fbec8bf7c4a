package org.diskhost.backend.blob.azure;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * The Azure Blob REST calls a blob disk makes beyond reading: Get Blob Properties, Get Page Ranges, Put Page (update
 * and clear) and Lease Blob, on one blob. Requests are signed by an {@link AzureSigner} and sent through a
 * {@link Transport}, so they share the disk's connection limit and retries.
 *
 * <p>Every failure completes the future with an {@link AzureException} whose message starts with the disk's name.
 */
public final class AzureBlob {
    /** Page blobs are written and cleared in pages of this many bytes. */
    public static final int PAGE_SIZE = 512;
    /** The most one Put Page (update) may carry; larger writes are split. */
    public static final int MAX_PUT_PAGE = 4 << 20;

    /**
     * Sends one request of an {@link AzureBlob}: the transport adds what every request to the blob needs (the
     * {@link AzureSigner}'s headers, a SAS token) and may retry; it completes with the response, whatever its status,
     * or fails when no answer came.
     */
    @FunctionalInterface
    public interface Transport {
        /**
         * @param what names the request in errors, such as {@code "Put Page bytes 0-511 of URL"}
         * @param body a fresh body for each attempt
         */
        CompletableFuture<HttpResponse<byte[]>> send(String what, String method, URI uri, Map<String, String> headers,
                long contentLength, Supplier<HttpRequest.BodyPublisher> body);

        /** Each request sent once with {@code client}, completed by {@code signer}. */
        static Transport direct(HttpClient client, AzureSigner signer, Duration timeout) {
            return (what, method, uri, headers, contentLength, body) -> {
                Map<String, String> all = new LinkedHashMap<>(headers);
                signer.complete(method, uri, all, contentLength);
                HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).method(method, body.get());
                all.forEach(b::header);
                return client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            };
        }
    }

    /** The blob's type (x-ms-blob-type): only page blobs are writable and report allocation. */
    public enum BlobType {
        PAGE, BLOCK, APPEND;

        static BlobType parse(String header) {
            return switch (header) {
                case "PageBlob" -> PAGE;
                case "BlockBlob" -> BLOCK;
                case "AppendBlob" -> APPEND;
                default -> throw new IllegalArgumentException("unknown x-ms-blob-type '" + header + "'");
            };
        }
    }

    /**
     * What Get Blob Properties says.
     *
     * @param leaseState {@code available}, {@code leased}, {@code expired}, {@code breaking} or {@code broken}
     */
    public record Properties(long length, String etag, BlobType type, String leaseState) {
    }

    /** A run of allocated bytes: {@code offset} and {@code length} are multiples of {@link #PAGE_SIZE}. */
    public record PageRange(long offset, long length) {
        public long end() {
            return offset + length;
        }
    }

    private final String disk;
    private final URI uri;
    private final String where;
    private final Transport transport;
    private final boolean sharedKey;
    private final Optional<String> ifMatch;

    /**
     * @param disk how messages name the disk, such as {@code blob disk 'golden'}
     * @param uri the blob's URL (a SAS token in its query, if that is how it is authorized)
     * @param where how messages name the blob: its URL without a query that may hold a token
     * @param sharedKey whether requests are signed with Shared Key (for the hint of a refused request)
     * @param ifMatch an ETag that Get Page Ranges must match (a read-only disk pinned to the blob it opened)
     */
    public AzureBlob(String disk, URI uri, String where, Transport transport, boolean sharedKey,
            Optional<String> ifMatch) {
        this.disk = disk;
        this.uri = uri;
        this.where = where;
        this.transport = transport;
        this.sharedKey = sharedKey;
        this.ifMatch = ifMatch;
    }

    /** How messages name the blob. */
    public String where() {
        return where;
    }

    /** Get Blob Properties (a HEAD). */
    public CompletableFuture<Properties> properties() {
        return call("Get Blob Properties", "HEAD", null, Map.of(), 200).thenApply(r -> {
            var h = r.headers();
            try {
                long length = h.firstValueAsLong("Content-Length").orElseThrow();
                BlobType type = BlobType.parse(h.firstValue("x-ms-blob-type").orElseThrow());
                return new Properties(length, h.firstValue("ETag").orElse(""), type,
                        h.firstValue("x-ms-lease-state").orElse("available"));
            } catch (RuntimeException e) {
                throw new CompletionException(malformed("Get Blob Properties",
                        "missing or bad Content-Length or x-ms-blob-type (" + e.getMessage() + ")"));
            }
        });
    }

    /**
     * Get Page Ranges within {@code [offset, offset + length)}: the allocated ranges, sorted, adjacent ones merged,
     * clipped to the asked range. Follows {@code NextMarker} until the service has sent every range.
     */
    public CompletableFuture<List<PageRange>> pageRanges(long offset, long length) {
        if (length == 0) {
            return CompletableFuture.completedFuture(List.of());
        }
        return pageRanges(offset, length, null, new ArrayList<>());
    }

    private CompletableFuture<List<PageRange>> pageRanges(long offset, long length, String marker,
            List<PageRange> found) {
        String query = "comp=pagelist" + (marker == null ? "" : "&marker=" + URLEncoder.encode(marker,
                StandardCharsets.UTF_8));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-range", range(offset, length));
        ifMatch.ifPresent(tag -> headers.put("If-Match", tag));
        return call("Get Page Ranges", "GET", query, headers, 200)
                .thenCompose(r -> {
                    String next;
                    try {
                        next = parsePageList(r.body(), found);
                    } catch (XMLStreamException | RuntimeException e) {
                        return CompletableFuture.failedFuture(malformed("Get Page Ranges", "the page list is not "
                                + "valid XML (" + e.getMessage() + ")"));
                    }
                    return next == null || next.isEmpty()
                            ? CompletableFuture.completedFuture(normalize(found, offset, offset + length))
                            : pageRanges(offset, length, next, found);
                });
    }

    /** Adds the {@code PageRange} elements to {@code ranges}; returns {@code NextMarker} (null or empty: done). */
    static String parsePageList(byte[] xml, List<PageRange> ranges) throws XMLStreamException {
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        XMLStreamReader x = f.createXMLStreamReader(new ByteArrayInputStream(xml));
        String next = null;
        long start = -1;
        boolean inPageRange = false;
        while (x.hasNext()) {
            if (x.next() != XMLStreamConstants.START_ELEMENT) {
                if (x.getEventType() == XMLStreamConstants.END_ELEMENT && x.getLocalName().equals("PageRange")) {
                    inPageRange = false;
                }
                continue;
            }
            switch (x.getLocalName()) {
                case "PageRange" -> inPageRange = true;
                case "Start" -> start = inPageRange ? Long.parseLong(x.getElementText().strip()) : start;
                case "End" -> {
                    if (inPageRange) {
                        long end = Long.parseLong(x.getElementText().strip());
                        if (start < 0 || end < start) {
                            throw new IllegalArgumentException("page range " + start + "-" + end);
                        }
                        ranges.add(new PageRange(start, end - start + 1));
                        start = -1;
                    }
                }
                case "NextMarker" -> next = x.getElementText().strip();
                default -> {
                }
            }
        }
        return next;
    }

    /** Sorted, merged where they touch or overlap, clipped to {@code [from, to)}. */
    static List<PageRange> normalize(List<PageRange> ranges, long from, long to) {
        List<PageRange> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        List<PageRange> out = new ArrayList<>();
        for (PageRange r : sorted) {
            long start = Math.max(r.offset(), from);
            long end = Math.min(r.end(), to);
            if (start >= end) {
                continue;
            }
            PageRange last = out.isEmpty() ? null : out.getLast();
            if (last != null && start <= last.end()) {
                out.set(out.size() - 1, new PageRange(last.offset(), Math.max(last.end(), end) - last.offset()));
            } else {
                out.add(new PageRange(start, end - start));
            }
        }
        return List.copyOf(out);
    }

    /**
     * Writes {@code length} bytes of {@code data} from {@code from} at {@code offset} with Put Page (update), in calls
     * of at most {@link #MAX_PUT_PAGE} bytes sent together. Offset and length must be multiples of
     * {@link #PAGE_SIZE}.
     *
     * @param leaseId the lease the disk holds, if any (a leased blob refuses writes without it)
     * @throws IllegalArgumentException (at once) when the range is not page-aligned
     */
    public CompletableFuture<Void> putPages(long offset, byte[] data, int from, int length, Optional<String> leaseId) {
        requireAligned(offset, length);
        List<CompletableFuture<?>> parts = new ArrayList<>();
        for (int done = 0; done < length; done += MAX_PUT_PAGE) {
            int n = Math.min(MAX_PUT_PAGE, length - done);
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("x-ms-page-write", "update");
            headers.put("x-ms-range", range(offset + done, n));
            leaseId.ifPresent(id -> headers.put("x-ms-lease-id", id));
            int at = from + done;
            parts.add(call("Put Page", "PUT", "comp=page", headers, n,
                    () -> HttpRequest.BodyPublishers.ofByteArray(data, at, n), 201));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
    }

    /**
     * Clears {@code length} bytes at {@code offset} (Put Page with {@code x-ms-page-write: clear}): they become
     * holes and read as zeros. A clear has no size limit. Offset and length must be multiples of {@link #PAGE_SIZE}.
     */
    public CompletableFuture<Void> clearPages(long offset, long length, Optional<String> leaseId) {
        requireAligned(offset, length);
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ms-page-write", "clear");
        headers.put("x-ms-range", range(offset, length));
        leaseId.ifPresent(id -> headers.put("x-ms-lease-id", id));
        return call("Put Page (clear)", "PUT", "comp=page", headers, 201)
                .thenApply(r -> null);
    }

    private static void requireAligned(long offset, long length) {
        if (offset < 0 || length < 0 || offset % PAGE_SIZE != 0 || length % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("page blob writes must be " + PAGE_SIZE + "-byte aligned: offset "
                    + offset + ", length " + length);
        }
    }

    /**
     * Lease Blob, action {@code acquire}: a lease of {@code seconds} (15 to 60, or -1 for infinite) with the
     * proposed id. Completes with the lease id; fails with status 409 ({@code LeaseAlreadyPresent}) when another
     * client holds a lease.
     */
    public CompletableFuture<String> acquireLease(int seconds, String proposedId) {
        return call("Lease Blob (acquire)", "PUT", "comp=lease", Map.of("x-ms-lease-action", "acquire",
                "x-ms-lease-duration", Integer.toString(seconds), "x-ms-proposed-lease-id", proposedId), 201)
                .thenApply(r -> r.headers().firstValue("x-ms-lease-id").orElse(proposedId));
    }

    /** Lease Blob, action {@code renew}. */
    public CompletableFuture<Void> renewLease(String leaseId) {
        return call("Lease Blob (renew)", "PUT", "comp=lease", Map.of("x-ms-lease-action", "renew",
                "x-ms-lease-id", leaseId), 200).thenApply(r -> null);
    }

    /** Lease Blob, action {@code release}. */
    public CompletableFuture<Void> releaseLease(String leaseId) {
        return call("Lease Blob (release)", "PUT", "comp=lease", Map.of("x-ms-lease-action", "release",
                "x-ms-lease-id", leaseId), 200).thenApply(r -> null);
    }

    /** An inclusive byte range header value. */
    static String range(long offset, long length) {
        return "bytes=" + offset + "-" + (offset + length - 1);
    }

    private CompletableFuture<HttpResponse<byte[]>> call(String operation, String method, String query,
            Map<String, String> headers, int expected) {
        return call(operation, method, query, headers, 0, HttpRequest.BodyPublishers::noBody, expected);
    }

    private CompletableFuture<HttpResponse<byte[]>> call(String operation, String method, String query,
            Map<String, String> headers, long contentLength, Supplier<HttpRequest.BodyPublisher> body, int expected) {
        URI target = query == null ? uri : URI.create(uri + (uri.getRawQuery() == null ? "?" : "&") + query);
        String what = disk + ": " + operation + Optional.ofNullable(headers.get("x-ms-range")).map(r -> " " + r)
                .orElse("") + " of " + where;
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = transport.send(what, method, target, headers, contentLength, body);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.handle((r, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException c && c.getCause() != null
                        ? c.getCause() : failure;
                // The transport's own error names the request already when it is an AzureException or says what.
                String message = cause.getMessage() != null && cause.getMessage().startsWith(disk) ? cause.getMessage()
                        : what + " failed: " + cause;
                AzureException e = new AzureException(message, 0, null);
                e.initCause(cause);
                throw new CompletionException(e);
            }
            if (r.statusCode() != expected) {
                throw new CompletionException(refused(what, r));
            }
            return r;
        });
    }

    private AzureException refused(String what, HttpResponse<byte[]> r) {
        String code = r.headers().firstValue("x-ms-error-code").orElse(null);
        String hint = switch (r.statusCode()) {
            case 403 -> sharedKey
                    ? " (the service refused the Shared Key signature: check the account name and key)"
                    : " (the SAS token is missing, expired or lacks the permission)";
            case 404 -> " (no such blob or container)";
            case 409 -> code != null && code.startsWith("Lease") ? leaseHint(code) : "";
            case 412 -> code != null && code.startsWith("Lease") ? leaseHint(code) : " (the blob changed)";
            default -> "";
        };
        return new AzureException(what + " failed: HTTP " + r.statusCode() + (code == null ? "" : " " + code) + hint,
                r.statusCode(), code);
    }

    private static String leaseHint(String code) {
        return switch (code) {
            case "LeaseAlreadyPresent" -> " (another writer holds a lease on the blob)";
            case "LeaseIdMissing" -> " (the blob is leased by another writer)";
            case "LeaseIdMismatchWithLeaseOperation", "LeaseIdMismatchWithBlobOperation", "LeaseLost",
                    "LeaseNotPresentWithLeaseOperation", "LeaseNotPresentWithBlobOperation" ->
                " (this disk's lease was lost: it expired or was broken)";
            default -> "";
        };
    }

    private AzureException malformed(String operation, String what) {
        return new AzureException(disk + ": " + operation + " of " + where + ": " + what, 0, null);
    }

    @Override
    public String toString() {
        return "AzureBlob[" + where + (sharedKey ? ", Shared Key" : "") + "]";
    }
}
