package org.diskhost.backend.blob;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny HTTP/1.1 server for the faults nginx does not make: it serves one blob at {@code /blob} with ranges, a
 * strong ETag and keep-alive, and misbehaves as told, once per queued {@link Fault} (each taken by the next GET) or
 * always ({@link #always}).
 */
final class FaultServer implements AutoCloseable {
    enum Fault {
        /** Headers for the whole range, half the body, then the connection closes. */
        DROP_MID_BODY,
        /** 503 with {@code Retry-After: 1}. */
        UNAVAILABLE_RETRY_AFTER_1S,
        /** 503 with {@code Retry-After: 3600}. */
        UNAVAILABLE_RETRY_AFTER_1H,
        /** 500 without Retry-After. */
        INTERNAL_ERROR,
        /** 200 with the whole blob, whatever the Range. */
        IGNORE_RANGE,
        /** 206 with the right Content-Range, no length, half the body, then the connection closes. */
        SHORT_BODY,
        /** 206 with a Content-Range 512 bytes further on. */
        WRONG_RANGE,
        /** Headers and half the body, then nothing for 5 s. */
        STALL,
        /** 206 with a Content-Length one byte longer than the range (and one more byte of body). */
        LONG_BODY
    }

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

    private final ServerSocket socket;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final ConcurrentLinkedDeque<Fault> once = new ConcurrentLinkedDeque<>();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger maxActive = new AtomicInteger();
    private volatile byte[] content;
    private volatile String etag = "\"v1\"";
    private volatile Fault always;
    private volatile boolean refuseHead;
    private volatile boolean sendEtag = true;
    private volatile long responseDelayMillis;

    FaultServer(byte[] content) throws IOException {
        this.content = content;
        this.socket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.submit(this::accept);
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/blob");
    }

    /** Queues faults for the next GETs, one each. */
    void next(Fault... faults) {
        once.addAll(List.of(faults));
    }

    void always(Fault fault) {
        this.always = fault;
    }

    void refuseHead(boolean refuse) {
        this.refuseHead = refuse;
    }

    /** Every request waits this long before its answer, counted as at the server. */
    void responseDelay(long millis) {
        this.responseDelayMillis = millis;
    }

    void sendEtag(boolean send) {
        this.sendEtag = send;
    }

    /** Replaces the blob; a new ETag unless {@code sameEtag}. */
    void replace(byte[] newContent, boolean sameEtag) {
        content = newContent;
        if (!sameEtag) {
            etag = "\"v" + System.nanoTime() + "\"";
        }
    }

    /** "METHOD Range" of every request so far. */
    List<String> log() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    int maxConcurrent() {
        return maxActive.get();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                threads.submit(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                Map<String, String> headers = new LinkedHashMap<>();
                for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                    int colon = h.indexOf(':');
                    headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
                }
                int now = active.incrementAndGet();
                maxActive.accumulateAndGet(now, Math::max);
                try {
                    if (responseDelayMillis > 0) {
                        Thread.sleep(responseDelayMillis); // lets requests overlap however loaded the machine is
                    }
                    if (!respond(requestLine.split(" ")[0], headers, out)) {
                        return;
                    }
                } finally {
                    active.decrementAndGet();
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away
        }
    }

    /** Answers one request; false when the connection must close. */
    private boolean respond(String method, Map<String, String> headers, OutputStream out)
            throws IOException, InterruptedException {
        byte[] blob = content;
        String range = headers.get("range");
        log.add(method + " " + (range == null ? "-" : range));
        String tag = sendEtag ? "ETag: " + etag + "\r\n" : "";
        if (method.equals("HEAD")) {
            if (refuseHead) {
                write(out, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            } else {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + blob.length + "\r\n" + tag
                        + "Accept-Ranges: bytes\r\n\r\n");
            }
            return true;
        }
        String ifMatch = headers.get("if-match");
        if (ifMatch != null && !ifMatch.equals(etag)) {
            write(out, "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n");
            return true;
        }
        Matcher m = range == null ? null : RANGE.matcher(range);
        if (m == null || !m.matches()) {
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + blob.length + "\r\n" + tag + "\r\n");
            out.write(blob);
            return true;
        }
        long start = Long.parseLong(m.group(1));
        long end = Math.min(Long.parseLong(m.group(2)), blob.length - 1L);
        if (start >= blob.length) {
            write(out, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + blob.length
                    + "\r\nContent-Length: 0\r\n\r\n");
            return true;
        }
        int from = (int) start;
        int n = (int) (end - start + 1);
        Fault fault = once.poll();
        if (fault == null) {
            fault = always;
        }
        String partial = "HTTP/1.1 206 Partial Content\r\n" + tag + "Content-Range: bytes " + start + "-" + end + "/"
                + blob.length + "\r\n";
        if (fault == null) {
            write(out, partial + "Content-Length: " + n + "\r\n\r\n");
            out.write(blob, from, n);
            return true;
        }
        switch (fault) {
            case DROP_MID_BODY -> {
                write(out, partial + "Content-Length: " + n + "\r\n\r\n");
                out.write(blob, from, n / 2);
                out.flush();
                return false;
            }
            case UNAVAILABLE_RETRY_AFTER_1S -> write(out, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                    + "Content-Length: 0\r\n\r\n");
            case UNAVAILABLE_RETRY_AFTER_1H -> write(out, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
                    + "Content-Length: 0\r\n\r\n");
            case INTERNAL_ERROR -> write(out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
            case IGNORE_RANGE -> {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + blob.length + "\r\n" + tag + "\r\n");
                out.write(blob);
            }
            case SHORT_BODY -> {
                write(out, partial + "Connection: close\r\n\r\n");
                out.write(blob, from, n / 2);
                out.flush();
                return false;
            }
            case WRONG_RANGE -> {
                write(out, "HTTP/1.1 206 Partial Content\r\n" + tag + "Content-Range: bytes " + (start + 512) + "-"
                        + (end + 512) + "/" + blob.length + "\r\nContent-Length: " + n + "\r\n\r\n");
                out.write(blob, from, n);
            }
            case STALL -> {
                write(out, partial + "Content-Length: " + n + "\r\n\r\n");
                out.write(blob, from, n / 2);
                out.flush();
                Thread.sleep(5000);
                return false;
            }
            case LONG_BODY -> {
                write(out, partial + "Content-Length: " + (n + 1) + "\r\n\r\n");
                out.write(blob, from, n);
                out.write(0);
            }
        }
        return true;
    }

    private static void write(OutputStream out, String head) throws IOException {
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        for (int c = in.read(); c != -1; c = in.read()) {
            if (c == '\n') {
                int len = s.length();
                return len > 0 && s.charAt(len - 1) == '\r' ? s.substring(0, len - 1) : s.toString();
            }
            s.append((char) c);
        }
        return s.isEmpty() ? null : s.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        threads.shutdownNow();
    }
}
