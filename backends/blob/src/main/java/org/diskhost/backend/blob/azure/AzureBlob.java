package org.diskhost.backend.blob.azure;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLEncoder;
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

    /** Sends a request; completes with the response, whatever its status, or fails on a connection error. */
    @FunctionalInterface
    public interface Transport {
        CompletableFuture<HttpResponse<byte[]>> send(HttpRequest request);
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
    private final AzureSigner signer;
    private final Transport transport;
    private final Duration timeout;

    /**
     * @param disk how messages name the disk, such as {@code blob disk 'golden'}
     * @param uri the blob's URL, with a SAS token in its query if that is how it is authorized
     * @param timeout the timeout of each request
     */
    public AzureBlob(String disk, URI uri, AzureSigner signer, Transport transport, Duration timeout) {
        this.disk = disk;
        this.uri = uri;
        this.signer = signer;
        this.transport = transport;
        this.timeout = timeout;
    }

    public URI uri() {
        return uri;
    }

    /** Get Blob Properties (a HEAD). */
    public CompletableFuture<Properties> properties() {
        return call("Get Blob Properties", "HEAD", null, Map.of(), null, 200).thenApply(r -> {
            var h = r.headers();
            try {
                long length = h.firstValueAsLong("Content-Length").orElseThrow();
                BlobType type = BlobType.parse(h.firstValue("x-ms-blob-type").orElseThrow());
                return new Properties(length, h.firstValue("ETag").orElse(""), type,
                        h.firstValue("x-ms-lease-state").orElse("available"));
            } catch (RuntimeException e) {
                throw new java.util.concurrent.CompletionException(malformed("Get Blob Properties",
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
        return call("Get Page Ranges", "GET", query, Map.of("x-ms-range", range(offset, length)), null, 200)
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
            parts.add(call("Put Page", "PUT", "comp=page", headers,
                    HttpRequest.BodyPublishers.ofByteArray(data, from + done, n), 201));
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
        return call("Put Page (clear)", "PUT", "comp=page", headers, HttpRequest.BodyPublishers.noBody(), 201)
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
                "x-ms-lease-duration", Integer.toString(seconds), "x-ms-proposed-lease-id", proposedId), null, 201)
                .thenApply(r -> r.headers().firstValue("x-ms-lease-id").orElse(proposedId));
    }

    /** Lease Blob, action {@code renew}. */
    public CompletableFuture<Void> renewLease(String leaseId) {
        return call("Lease Blob (renew)", "PUT", "comp=lease", Map.of("x-ms-lease-action", "renew",
                "x-ms-lease-id", leaseId), null, 200).thenApply(r -> null);
    }

    /** Lease Blob, action {@code release}. */
    public CompletableFuture<Void> releaseLease(String leaseId) {
        return call("Lease Blob (release)", "PUT", "comp=lease", Map.of("x-ms-lease-action", "release",
                "x-ms-lease-id", leaseId), null, 200).thenApply(r -> null);
    }

    /** An inclusive byte range header value. */
    static String range(long offset, long length) {
        return "bytes=" + offset + "-" + (offset + length - 1);
    }

    private CompletableFuture<HttpResponse<byte[]>> call(String operation, String method, String query,
            Map<String, String> extra, HttpRequest.BodyPublisher body, int expected) {
        URI target = query == null ? uri
                : URI.create(uri + (uri.getRawQuery() == null ? "?" : "&") + query);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        extra.forEach((k, v) -> headers.put(k, List.of(v)));
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody() : body;
        signer.complete(method, target, headers, Math.max(0, publisher.contentLength()));
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(timeout).method(method, publisher);
        headers.forEach((k, vs) -> vs.forEach(v -> b.header(k, v)));
        CompletableFuture<HttpResponse<byte[]>> sent;
        try {
            sent = transport.send(b.build());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.handle((r, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : failure;
                AzureException e = new AzureException(disk + ": " + operation + " of " + AzureSigner.redact(uri)
                        + " failed: " + cause, 0, null);
                e.initCause(cause);
                throw new java.util.concurrent.CompletionException(e);
            }
            if (r.statusCode() != expected) {
                throw new java.util.concurrent.CompletionException(refused(operation, r));
            }
            return r;
        });
    }

    private AzureException refused(String operation, HttpResponse<byte[]> r) {
        String code = r.headers().firstValue("x-ms-error-code").orElse(null);
        String hint = switch (r.statusCode()) {
            case 403 -> signer.key().isPresent()
                    ? " (the service refused the Shared Key signature: check the account name and key)"
                    : " (the SAS token is missing, expired or lacks the permission)";
            case 404 -> " (no such blob or container)";
            case 409 -> code != null && code.startsWith("Lease") ? leaseHint(code) : "";
            case 412 -> code != null && code.startsWith("Lease") ? leaseHint(code) : " (the blob changed)";
            default -> "";
        };
        return new AzureException(disk + ": " + operation + " of " + AzureSigner.redact(uri) + " failed: HTTP "
                + r.statusCode() + (code == null ? "" : " " + code) + hint, r.statusCode(), code);
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
        return new AzureException(disk + ": " + operation + " of " + AzureSigner.redact(uri) + ": " + what, 0, null);
    }

    @Override
    public String toString() {
        return "AzureBlob[" + AzureSigner.redact(uri) + ", " + signer + "]";
    }
}
