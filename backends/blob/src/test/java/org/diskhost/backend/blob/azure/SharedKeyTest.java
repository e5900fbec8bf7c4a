package org.diskhost.backend.blob.azure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SharedKeyTest {
    static final String KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    @Test
    void stringToSignFollowsTheSharedKeyLayout() {
        SharedKey key = SharedKey.of("myaccount", KEY);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-MS-Version", "2025-11-05");
        headers.put("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT");
        headers.put("x-ms-page-write", "  update ");
        headers.put("x-ms-meta-a", "one\r\n  two");
        headers.put("If-Match", "\"0x8D\"");
        headers.put("Content-Type", "application/octet-stream");
        String s = key.stringToSign("put", URI.create(
                "https://myaccount.blob.core.windows.net/c/my%20blob?comp=page&Timeout=20&b=2&b=1&x=a%2Fb"),
                headers, 4096);
        assertEquals(String.join("\n", "PUT", "", "", "4096", "", "application/octet-stream", "", "", "\"0x8D\"", "",
                "", "",
                "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT", "x-ms-meta-a:one two", "x-ms-page-write:update",
                "x-ms-version:2025-11-05",
                "/myaccount/c/my%20blob", "b:1,2", "comp:page", "timeout:20", "x:a/b"), s);
    }

    @Test
    void zeroContentLengthSignsAsEmptyAndRangeIsSigned() {
        SharedKey key = SharedKey.of("acct", KEY);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Range", "bytes=0-511");
        String s = key.stringToSign("GET", URI.create("http://127.0.0.1:10000/acct/c/b"), headers, 0);
        assertEquals("GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-511\n/acct/acct/c/b", s);
    }

    @Test
    void signerAddsVersionDateRangeAndAuthorization() {
        Clock clock = Clock.fixed(Instant.parse("2024-03-05T07:08:09Z"), ZoneOffset.UTC);
        AzureSigner signer = new AzureSigner(Optional.of(SharedKey.of("acct", KEY)), clock);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Range", "bytes=5368709120-5368709631");
        signer.complete("GET", URI.create("http://127.0.0.1/acct/c/b"), headers, 0);
        assertEquals(AzureSigner.VERSION, headers.get("x-ms-version"));
        assertEquals("Tue, 05 Mar 2024 07:08:09 GMT", headers.get("x-ms-date"));
        assertEquals("bytes=5368709120-5368709631", headers.get("x-ms-range"));
        assertTrue(headers.get("Authorization").startsWith("SharedKey acct:"));
    }

    @Test
    void keyMaterialNeverShows(@TempDir Path dir) throws Exception {
        SharedKey key = SharedKey.of("acct", KEY);
        assertFalse(key.toString().contains(KEY.substring(0, 8)), key.toString());
        AzureSigner signer = new AzureSigner(Optional.of(key));
        assertFalse(signer.toString().contains(KEY.substring(0, 8)), signer.toString());

        String notBase64 = "this-is-not*base64-but-a-secret";
        var e = assertThrows(IllegalArgumentException.class, () -> SharedKey.of("acct", notBase64));
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertTrue(e.getMessage().contains("not base64"), e.getMessage());

        Path file = dir.resolve("key");
        Files.writeString(file, "  " + KEY + "\n");
        assertEquals(key.authorization("GET", URI.create("http://h/acct/c"), Map.of("x-ms-date", "d"), 0),
                SharedKey.fromFile("acct", file).authorization("GET", URI.create("http://h/acct/c"),
                        Map.of("x-ms-date", "d"), 0));
    }

    @Test
    void pageListParsingFollowsMarkersAndMergesRanges() throws Exception {
        var found = new java.util.ArrayList<AzureBlob.PageRange>();
        String next = AzureBlob.parsePageList(("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>"
                + "<PageRange><Start>1024</Start><End>2047</End></PageRange>"
                + "<ClearRange><Start>2048</Start><End>4095</End></ClearRange>"
                + "<PageRange><Start>0</Start><End>511</End></PageRange>"
                + "<NextMarker>2!abc</NextMarker></PageList>").getBytes(), found);
        assertEquals("2!abc", next);
        assertEquals(List.of(new AzureBlob.PageRange(1024, 1024), new AzureBlob.PageRange(0, 512)), found);
        found.add(new AzureBlob.PageRange(2048, 1024));
        found.add(new AzureBlob.PageRange(512, 512));
        assertEquals(List.of(new AzureBlob.PageRange(256, 2816)), AzureBlob.normalize(found, 256, 3072));
        assertEquals(List.of(new AzureBlob.PageRange(0, 512), new AzureBlob.PageRange(1024, 512)),
                AzureBlob.normalize(List.of(new AzureBlob.PageRange(0, 512), new AzureBlob.PageRange(1024, 2048)),
                        0, 1536));
        assertEquals("", AzureBlob.parsePageList("<PageList><NextMarker /></PageList>".getBytes(), found));
    }
}
