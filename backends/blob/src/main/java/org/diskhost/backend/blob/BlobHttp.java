package org.diskhost.backend.blob;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpResponse.ResponseInfo;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.diskhost.api.DiskException;
import org.diskhost.api.buffers.BufferWriter;
import org.diskhost.api.buffers.RequestBuffers;
import org.diskhost.api.inspect.Inspector;

/**
 * The HTTP side of one blob disk: the JDK client (HTTP/1.1 for plain http, so no h2c upgrade; no automatic
 * redirects), at most {@code connections} requests at the server ({@link Permits}), a deadline per attempt that
 * covers the body too (the JDK's request timeout stops at the headers), retries with exponential backoff and jitter,
 * and every request through the disk's {@link RequestHook}.
 *
 * <p>Nothing here blocks the caller: requests start on the disk's executor (a few platform threads) with the client's
 * asynchronous API, backoff and deadlines run on one timer thread, and response bodies are copied straight into the
 * request's buffers on the client's selector thread.
 *
 * <p>A write path ({@link BlobWrites}) sends its own requests with {@link #send}, which applies the same hook,
 * bound, deadline and retries.
 */
final class BlobHttp implements AutoCloseable {
    /** Statuses that another attempt may cure: request timeout, too many requests, server errors, gateways. */
    static final Set<Integer> RETRY_STATUSES = Set.of(408, 429, 500, 502, 503, 504);
    static final int MAX_REDIRECTS = 5;

    private static final Pattern CONTENT_RANGE = Pattern.compile("\\s*bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)\\s*");
    private static final Pattern UNSATISFIED_RANGE = Pattern.compile("\\s*bytes\\s+\\*/(\\d+)\\s*");

    private final BlobOptions options;
    private final RequestHook hook;
    private final ThreadPoolExecutor executor;
    private final ScheduledThreadPoolExecutor timer;
    private final HttpClient client;
    private final Permits permits;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final LongAdder requests = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder failed = new LongAdder();

    BlobHttp(BlobOptions options, String diskName, RequestHook hook) throws IOException {
        this.options = options;
        this.hook = hook;
        AtomicInteger threads = new AtomicInteger();
        String prefix = "diskhost-blob-" + diskName + "-";
        int size = Math.min(options.connections(), Math.max(2, Runtime.getRuntime().availableProcessors()));
        this.executor = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), task -> {
            Thread t = new Thread(task, prefix + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
        this.timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, prefix + "timer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true); // a deadline cancelled on completion leaves nothing behind
        HttpClient.Builder builder = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER) // resolved once, at open, by open()
                .connectTimeout(options.connectTimeout())
                // The client's own tasks (reading responses, feeding bodies) run on its selector thread: handing each
                // body buffer to a pool thread halved throughput (1 MiB GETs, 240 vs 480 MiB/s; bench/README.md).
                // What could block (a new connection's name lookup) starts on the disk's executor (exchange()).
                .executor(Runnable::run);
        if (options.url().getScheme().equalsIgnoreCase("https") || options.caFile().isPresent()) {
            builder.sslContext(Trust.context(options.caFile(), options.systemTrust()));
        }
        this.client = builder.build();
        this.permits = new Permits(options.connections());
    }

    /** How messages name the blob: its URL without the query. */
    static String where(URI uri) {
        return Redacted.uri(uri);
    }

    // ---- open: redirects, HEAD, and the ranged GET that replaces a refused HEAD ----

    /** What a probe of the blob found. */
    private sealed interface Probe {
        record Found(BlobProperties properties) implements Probe {
        }

        /** The server answered, but not usefully for this probe: the other probe may do better. */
        record Refused(String why) implements Probe {
        }
    }

    /**
     * Finds the blob: a {@code HEAD}, following at most {@value #MAX_REDIRECTS} redirects (never from https to http);
     * where the HEAD is refused (presigned URLs often sign GET only) or has no length, a {@code GET} of
     * {@code bytes=0-0}, whose {@code Content-Range} gives the length. The final URL is kept for every later request.
     */
    CompletableFuture<BlobProperties> open() {
        return probe("HEAD", options.url(), 0).thenCompose(head -> switch (head) {
            case Probe.Found found -> CompletableFuture.completedFuture(found.properties());
            case Probe.Refused refused -> probe("GET", options.url(), 0).thenApply(get -> switch (get) {
                case Probe.Found found -> found.properties();
                case Probe.Refused getRefused -> throw new CompletionException(BlobException.fatal(
                        where(options.url()) + ": " + getRefused.why() + " (HEAD: " + refused.why() + ")"));
            });
        });
    }

    private CompletableFuture<Probe> probe(String method, URI uri, int hops) {
        Map<String, String> headers = new LinkedHashMap<>(options.headers());
        boolean get = method.equals("GET");
        if (get) {
            headers.put("Range", "bytes=0-0");
        }
        BlobRequest request = BlobRequest.of(method, uri, headers);
        // A GET answered 200 would stream the whole blob: the probe stops reading at once.
        BodyHandler<Void> handler = info -> get && info.statusCode() == 200
                ? abort(BlobException.fatal("the server ignores Range requests (200 with the whole blob to "
                        + "Range: bytes=0-0); a blob disk reads ranges"))
                : BodySubscribers.discarding();
        return send(method + " " + where(uri), () -> request, handler).thenCompose(response -> {
            int status = response.statusCode();
            if (isRedirect(status)) {
                return redirect(method, uri, hops, response.headers(), status);
            }
            HttpHeaders h = response.headers();
            if (!get) {
                if (status != 200) {
                    return done(new Probe.Refused("HTTP " + status));
                }
                Optional<String> acceptRanges = h.firstValue("accept-ranges");
                if (acceptRanges.filter("none"::equalsIgnoreCase).isPresent()) {
                    throw new CompletionException(BlobException.fatal(where(uri)
                            + ": the server does not serve ranges (Accept-Ranges: none); a blob disk reads ranges"));
                }
                Optional<Long> length = h.firstValue("content-length").flatMap(BlobHttp::parseLong);
                if (length.isEmpty()) {
                    return done(new Probe.Refused("no Content-Length"));
                }
                return done(new Probe.Found(properties(uri, response, length.get())));
            }
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(h.firstValue("content-range").orElse(""));
                if (!m.matches() || m.group(3).equals("*") || !m.group(1).equals("0") || !m.group(2).equals("0")) {
                    throw new CompletionException(BlobException.fatal(where(uri) + ": the answer to Range: "
                            + "bytes=0-0 has Content-Range " + h.firstValue("content-range").map(v -> "\"" + v + "\"")
                            .orElse("missing") + ", not \"bytes 0-0/LENGTH\""));
                }
                return done(new Probe.Found(properties(uri, response, Long.parseLong(m.group(3)))));
            }
            if (status == 416) {
                Matcher m = UNSATISFIED_RANGE.matcher(h.firstValue("content-range").orElse(""));
                if (m.matches() && m.group(1).equals("0")) {
                    throw new CompletionException(BlobException.fatal(where(uri) + ": the blob is empty"));
                }
            }
            return done(new Probe.Refused(statusText(response.statusCode(), h)));
        });
    }

    private CompletableFuture<Probe> redirect(String method, URI from, int hops, HttpHeaders headers, int status) {
        Optional<String> location = headers.firstValue("location");
        if (location.isEmpty()) {
            return done(new Probe.Refused("HTTP " + status + " without a Location"));
        }
        if (hops >= MAX_REDIRECTS) {
            throw new CompletionException(BlobException.fatal(where(options.url()) + ": more than "
                    + MAX_REDIRECTS + " redirects (the last to " + where(resolve(from, location.get())) + ")"));
        }
        URI next = resolve(from, location.get());
        String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (from.getScheme().equalsIgnoreCase("https") && !scheme.equals("https")) {
            throw new CompletionException(BlobException.fatal(where(options.url()) + ": redirected from https to "
                    + (scheme.equals("http") ? where(next) : "\"" + scheme + "\"") + "; a blob disk never leaves https"));
        }
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new CompletionException(BlobException.fatal(where(options.url()) + ": redirected to a "
                    + "non-HTTP URL (scheme \"" + scheme + "\")"));
        }
        return probe(method, next, hops + 1);
    }

    private static URI resolve(URI from, String location) {
        try {
            return from.resolve(location.strip());
        } catch (IllegalArgumentException e) {
            throw new CompletionException(BlobException.fatal(where(from) + ": redirected to a malformed "
                    + "Location: " + e.getMessage()));
        }
    }

    /** {@code uri} is the URL the probe asked for: the request's may carry what the hook added (a SAS token). */
    private static BlobProperties properties(URI uri, HttpResponse<?> response, long length) {
        HttpHeaders h = response.headers();
        // A weak tag never matches If-Match (strong comparison), so it cannot pin the blob.
        Optional<String> etag = h.firstValue("etag").filter(tag -> !tag.startsWith("W/"));
        return new BlobProperties(uri, response.version(), length, etag,
                h.firstValue("last-modified"), h.firstValue("x-ms-blob-type"));
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    // ---- ranged reads ----

    /**
     * Reads exactly {@code length} bytes of the blob at {@code offset} into {@code into} (which has that length):
     * one {@code GET} with {@code Range} and the pin of {@code blob} ({@code If-Match}, else
     * {@code If-Unmodified-Since}), resumed after a dropped connection from the first byte not yet received.
     *
     * @return fails with a {@link BlobException} saying what the server did wrong, or with the {@link DiskException}
     *         of the buffers ({@code MemoryAccess})
     */
    CompletableFuture<Void> read(BlobProperties blob, long offset, long length, RequestBuffers into) {
        RangeRead read = new RangeRead(blob, offset, length, into);
        return send("GET bytes " + offset + "-" + (offset + length - 1) + " of " + where(blob.uri()), read::request,
                read::handle).thenApply(response -> null);
    }

    /** One ranged read, over its attempts (which run one after another). */
    private final class RangeRead {
        private final BlobProperties blob;
        private final long offset;
        private final long length;
        private final RequestBuffers into;
        /** Bytes in {@code into} already, from earlier attempts. */
        private volatile long received;

        RangeRead(BlobProperties blob, long offset, long length, RequestBuffers into) {
            this.blob = blob;
            this.offset = offset;
            this.length = length;
            this.into = into;
        }

        BlobRequest request() {
            Map<String, String> headers = new LinkedHashMap<>(options.headers());
            headers.put("Range", "bytes=" + (offset + received) + "-" + (offset + length - 1));
            if (blob.etag().isPresent()) {
                headers.put("If-Match", blob.etag().get());
            } else if (blob.lastModified().isPresent()) {
                headers.put("If-Unmodified-Since", blob.lastModified().get());
            }
            return BlobRequest.of("GET", blob.uri(), headers);
        }

        BodySubscriber<Void> handle(ResponseInfo info) {
            long start = offset + received;
            long end = offset + length - 1;
            String range = "bytes " + start + "-" + end;
            int status = info.statusCode();
            HttpHeaders h = info.headers();
            if (status == 206) {
                String contentRange = h.firstValue("content-range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(contentRange);
                if (!m.matches()) {
                    return abort(BlobException.fatal("the answer to Range: " + range + " has Content-Range \""
                            + contentRange + "\""));
                }
                if (!m.group(3).equals("*") && Long.parseLong(m.group(3)) != blob.length()) {
                    return abort(changedLength(Long.parseLong(m.group(3))));
                }
                if (Long.parseLong(m.group(1)) != start || Long.parseLong(m.group(2)) != end) {
                    return abort(BlobException.fatal("the server sent " + m.group(1) + "-" + m.group(2)
                            + " for Range: " + range));
                }
                return new IntoBuffers(end - start + 1, h);
            }
            if (status == 200) {
                // A full 200 is right only for a request of the whole blob, as 206 would have been.
                if (start == 0 && end == blob.length() - 1) {
                    return new IntoBuffers(blob.length(), h);
                }
                return abort(BlobException.fatal("the server ignored Range: " + range + " (200 with the whole blob "
                        + "instead of 206 Partial Content)"));
            }
            if (RETRY_STATUSES.contains(status)) {
                return abort(BlobException.retryable(statusText(status, h), retryAfter(h)));
            }
            return abort(switch (status) {
                case 412 -> BlobException.fatal("the blob changed since the disk was opened (HTTP 412: "
                        + blob.etag().map(tag -> "If-Match " + tag).orElse("If-Unmodified-Since "
                                + blob.lastModified().orElse("")) + " failed)");
                case 416 -> {
                    Matcher m = UNSATISFIED_RANGE.matcher(h.firstValue("content-range").orElse(""));
                    yield m.matches() ? changedLength(Long.parseLong(m.group(1)))
                            : BlobException.fatal("the blob is shorter than at open (HTTP 416 for " + range + ")");
                }
                case 301, 302, 303, 307, 308 -> BlobException.fatal("HTTP " + status + ": a redirect after open (to "
                        + h.firstValue("location").map(l -> where(URI.create(l))).orElse("nowhere") + ")");
                default -> BlobException.fatal(statusText(status, h));
            });
        }

        private BlobException changedLength(long now) {
            return BlobException.fatal((now < blob.length() ? "the blob shrank" : "the blob grew") + " from "
                    + blob.length() + " bytes at open to " + now);
        }

        /** Copies the body into the buffers as it arrives, checking that it has exactly the bytes asked for. */
        private final class IntoBuffers implements BodySubscriber<Void> {
            private final long expected;
            private final CompletableFuture<Void> body = new CompletableFuture<>();
            private BufferWriter writer;
            private Flow.Subscription subscription;
            private long got;

            IntoBuffers(long expected, HttpHeaders headers) {
                this.expected = expected;
                Optional<Long> declared = headers.firstValue("content-length").flatMap(BlobHttp::parseLong);
                if (declared.isPresent() && declared.get() != expected) {
                    body.completeExceptionally(BlobException.fatal("the server announces " + declared.get()
                            + " bytes (Content-Length) for a range of " + expected));
                }
            }

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                if (body.isDone()) {
                    s.cancel();
                    return;
                }
                try {
                    writer = into.writer();
                    writer.skip(received);
                } catch (RuntimeException e) {
                    body.completeExceptionally(e);
                    s.cancel();
                    return;
                }
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(List<ByteBuffer> items) {
                if (body.isDone()) {
                    return;
                }
                for (ByteBuffer item : items) {
                    int n = item.remaining();
                    if (got + n > expected) {
                        body.completeExceptionally(BlobException.fatal("the server sent more than the " + expected
                                + " bytes asked for"));
                        subscription.cancel();
                        return;
                    }
                    try {
                        writer.write(MemorySegment.ofBuffer(item));
                    } catch (RuntimeException e) { // the buffers: MemoryAccess
                        body.completeExceptionally(e);
                        subscription.cancel();
                        return;
                    }
                    got += n;
                    received += n;
                }
            }

            @Override
            public void onError(Throwable failure) {
                body.completeExceptionally(failure); // a dropped connection: retried from the first missing byte
            }

            @Override
            public void onComplete() {
                if (got != expected) {
                    body.completeExceptionally(BlobException.fatal("unexpected end of the body: the server sent "
                            + got + " of " + expected + " bytes"));
                } else {
                    body.complete(null);
                }
            }

            @Override
            public CompletionStage<Void> getBody() {
                return body;
            }
        }
    }

    /** Reads {@code length} bytes at {@code offset} into a new array (a VHD footer). */
    CompletableFuture<byte[]> readBytes(BlobProperties blob, long offset, int length) {
        byte[] bytes = new byte[length];
        return read(blob, offset, length, RequestBuffers.of(MemorySegment.ofArray(bytes), true))
                .thenApply(done -> bytes);
    }

    // ---- sending, with the bound, the deadline and retries ----

    /**
     * Sends a request until it succeeds or fails for good: each attempt builds its request ({@code request} may
     * depend on progress so far), holds one of the {@code connections} permits, passes the {@link RequestHook}, and
     * ends within {@code requestTimeout}, body included. A connection failure, a timeout, or a body handler's
     * retryable {@link BlobException} is retried after exponential backoff with jitter ({@code retryDelay} doubling
     * up to {@code retryMaxDelay}), at most {@code retries} times; a {@code Retry-After} longer than the backoff is
     * honoured, and one longer than {@code retryMaxDelay} ends the retries. Statuses in {@link #RETRY_STATUSES} are
     * retried before {@code handler} sees them.
     *
     * @param what names the request in the final error, as {@code "GET bytes 0-511 of http://host/blob"}
     * @return the response (any other status included); fails with a {@link BlobException} that says what happened,
     *         after how many attempts
     */
    <T> CompletableFuture<HttpResponse<T>> send(String what, Supplier<BlobRequest> request, BodyHandler<T> handler) {
        return send(what, request, HttpRequest.BodyPublishers::noBody, handler);
    }

    /** {@link #send(String, Supplier, BodyHandler)} with a body, made afresh for each attempt by {@code body}. */
    <T> CompletableFuture<HttpResponse<T>> send(String what, Supplier<BlobRequest> request,
            Supplier<HttpRequest.BodyPublisher> body, BodyHandler<T> handler) {
        BodyHandler<T> retrying = info -> RETRY_STATUSES.contains(info.statusCode())
                ? abort(BlobException.retryable(statusText(info.statusCode(), info.headers()),
                        retryAfter(info.headers())))
                : handler.apply(info);
        CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
        attempt(what, () -> exchange(request.get(), body.get(), retrying), 0, result);
        return result;
    }

    private <T> void attempt(String what, Supplier<CompletableFuture<T>> once, int retriesSoFar,
            CompletableFuture<T> result) {
        CompletableFuture<T> attempt;
        try {
            attempt = once.get();
        } catch (RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
                return;
            }
            Throwable cause = unwrap(failure);
            boolean retryable = retryable(cause);
            if (!retryable || retriesSoFar >= options.retries() || closed.get()) {
                failed.increment();
                result.completeExceptionally(finalError(what, cause, retryable ? retriesSoFar : -1));
                return;
            }
            long backoff = backoffNanos(retriesSoFar);
            Optional<Duration> after = cause instanceof BlobException b ? b.retryAfter() : Optional.empty();
            if (after.isPresent() && after.get().compareTo(options.retryMaxDelay()) > 0) {
                failed.increment();
                result.completeExceptionally(BlobException.fatal(what + ": " + cause.getMessage()
                        + ", and the server asks to retry after " + after.get().toSeconds() + " s, longer than "
                        + BlobOptions.RETRY_MAX_DELAY + " (" + options.retryMaxDelay().toMillis() + " ms)", cause));
                return;
            }
            long delay = Math.max(backoff, after.map(Duration::toNanos).orElse(0L));
            retried.increment();
            try {
                timer.schedule(() -> attempt(what, once, retriesSoFar + 1, result), delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closing) {
                result.completeExceptionally(finalError(what, cause, retriesSoFar));
            }
        });
    }

    /** The n-th retry's delay: {@code retryDelay * 2^n} capped at {@code retryMaxDelay}, half of it random. */
    private long backoffNanos(int n) {
        long base = options.retryDelay().toNanos();
        long max = options.retryMaxDelay().toNanos();
        long delay = n >= 40 ? max : Math.min(max, base << Math.min(n, 40));
        if (delay < 0) {
            delay = max;
        }
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    private static boolean retryable(Throwable cause) {
        return switch (cause) {
            case BlobException b -> b.isRetryable();
            case DiskException d -> false; // the request's buffers
            case HttpTimeoutException t -> true;
            case ConnectException c -> true;
            case IOException io -> true; // reset, EOF mid-body, closed connection
            default -> false;
        };
    }

    private IOException finalError(String what, Throwable cause, int retries) {
        if (cause instanceof DiskException) {
            return new IOException(what, cause); // unwrapped again by the disk, which passes it on as it is
        }
        if (closed.get()) {
            return BlobException.fatal(what + ": the disk is closed", cause);
        }
        String message = cause instanceof BlobException ? cause.getMessage()
                : cause instanceof HttpTimeoutException ? "no complete answer within " + BlobOptions.REQUEST_TIMEOUT
                        + " (" + options.requestTimeout().toMillis() + " ms)"
                : cause instanceof ConnectException ? "cannot connect: " + describe(cause)
                : cause instanceof IOException ? "connection failed: " + describe(cause)
                : describe(cause);
        String tries = retries > 0 ? " (after " + retries + (retries == 1 ? " retry)" : " retries)") : "";
        return BlobException.fatal(what + ": " + message + tries, cause);
    }

    private static String describe(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** One attempt: a permit, the hook, the request, and a deadline that cancels the exchange, body included. */
    private <T> CompletableFuture<HttpResponse<T>> exchange(BlobRequest request, HttpRequest.BodyPublisher body,
            BodyHandler<T> handler) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(BlobException.fatal("the disk is closed"));
        }
        return permits.acquire().thenComposeAsync(held -> {
            CompletableFuture<HttpResponse<T>> response;
            try {
                HttpRequest http = build(hook.apply(request), body);
                requests.increment();
                response = client.sendAsync(http, handler);
            } catch (IOException e) {
                permits.release();
                return CompletableFuture.failedFuture(BlobException.fatal(e.getMessage(), e));
            } catch (RuntimeException e) {
                permits.release();
                return CompletableFuture.failedFuture(e);
            }
            AtomicBoolean timedOut = new AtomicBoolean();
            ScheduledFuture<?> deadline;
            try {
                deadline = timer.schedule(() -> {
                    timedOut.set(true);
                    response.cancel(true); // aborts the exchange, and so the connection, mid-body
                }, options.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException closing) {
                response.cancel(true);
                deadline = null;
            }
            ScheduledFuture<?> cancelDeadline = deadline;
            return response.handle((value, failure) -> {
                if (cancelDeadline != null) {
                    cancelDeadline.cancel(false);
                }
                permits.release();
                if (failure == null) {
                    return CompletableFuture.completedFuture(value);
                }
                Throwable cause = unwrap(failure);
                if (timedOut.get() && (cause instanceof CancellationException || cause instanceof IOException)) {
                    cause = new HttpTimeoutException("timed out");
                }
                return CompletableFuture.<HttpResponse<T>>failedFuture(cause);
            }).thenCompose(f -> f);
        }, executor);
    }

    private HttpRequest build(BlobRequest request, HttpRequest.BodyPublisher body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(request.uri())
                .method(request.method(), body)
                .timeout(options.requestTimeout());
        if (request.uri().getScheme().equalsIgnoreCase("http")) {
            builder.version(HttpClient.Version.HTTP_1_1); // the default HTTP/2 would send an h2c upgrade
        }
        request.headers().forEach(builder::setHeader);
        return builder.build();
    }

    /** A body subscriber that reads nothing (a 200 to a ranged GET may be the whole blob) and fails with {@code e}. */
    private static <T> BodySubscriber<T> abort(Exception e) {
        return new BodySubscriber<>() {
            @Override
            public CompletionStage<T> getBody() {
                return CompletableFuture.failedFuture(e);
            }

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.cancel();
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
            }

            @Override
            public void onError(Throwable throwable) {
            }

            @Override
            public void onComplete() {
            }
        };
    }

    /** "HTTP 403 (access denied)", with Azure's error code when there is one. */
    static String statusText(int status, HttpHeaders headers) {
        String meaning = switch (status) {
            case 401, 403 -> " (access denied)";
            case 404 -> " (no such blob)";
            case 405 -> " (method not allowed)";
            case 408 -> " (request timeout)";
            case 410 -> " (the blob is gone)";
            case 429 -> " (too many requests)";
            case 500 -> " (internal server error)";
            case 502 -> " (bad gateway)";
            case 503 -> " (service unavailable)";
            case 504 -> " (gateway timeout)";
            default -> "";
        };
        String code = headers.firstValue("x-ms-error-code").map(c -> ", " + c).orElse("");
        return "HTTP " + status + meaning + code;
    }

    /** {@code Retry-After} as seconds or an HTTP date. */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        Optional<String> value = headers.firstValue("retry-after").map(String::strip);
        if (value.isEmpty()) {
            return Optional.empty();
        }
        Optional<Long> seconds = parseLong(value.get());
        if (seconds.isPresent()) {
            return Optional.of(Duration.ofSeconds(seconds.get()));
        }
        try {
            ZonedDateTime when = ZonedDateTime.parse(value.get(), DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration d = Duration.between(ZonedDateTime.now(when.getZone()), when);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<Long> parseLong(String s) {
        try {
            long v = Long.parseLong(s.strip());
            return v < 0 ? Optional.empty() : Optional.of(v);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    void inspect(Inspector out) {
        out.value("connections", options.connections())
                .value("requests_at_server", permits.inUse())
                .value("requests_waiting", permits.waiting())
                .value("requests", requests.sum())
                .value("retries", retried.sum())
                .value("failed_requests", failed.sum());
    }

    /** Fails the requests in flight and stops the client's threads. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        client.shutdownNow();
        timer.shutdownNow();
        executor.shutdown();
    }
}
