package org.diskhost.backend.vhd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kind {@code vhd} tells formats apart by content, never by the file's name. */
class ImagesTest {
    @TempDir
    Path dir;

    private Images.Format detect(String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, content);
        return Images.detect(file);
    }

    @Test
    void theContentDecidesTheFormat() throws IOException {
        byte[] vhdx = new byte[1 << 20];
        System.arraycopy("vhdxfile".getBytes(StandardCharsets.US_ASCII), 0, vhdx, 0, 8);
        assertEquals(Images.Format.VHDX, detect("disk.vhd", vhdx), "a VHDX named .vhd");

        FixedVhd.create(dir.resolve("fixed.img"), 4096);
        assertEquals(Images.Format.VHD, Images.detect(dir.resolve("fixed.img")));
        DynamicVhd.createDynamic(dir.resolve("dynamic.vhdx"), 1 << 20, 4096);
        byte[] dynamic = Files.readAllBytes(dir.resolve("dynamic.vhdx"));
        assertEquals(Images.Format.VHD, Images.detect(dir.resolve("dynamic.vhdx")), "a VHD named .vhdx");

        // A dynamic VHD whose footer at the end was lost still has a valid copy at offset 0.
        byte[] lostEnd = dynamic.clone();
        Arrays.fill(lostEnd, lostEnd.length - 512, lostEnd.length, (byte) 0);
        assertEquals(Images.Format.VHD, detect("lost.vhd", lostEnd));
        // A raw disk that merely starts with the cookie (no valid footer there) stays raw.
        byte[] cookieOnly = new byte[8192];
        System.arraycopy(dynamic, 0, cookieOnly, 0, 64);
        assertEquals(Images.Format.RAW, detect("cookie.vhd", cookieOnly));
        assertEquals(Images.Format.RAW, detect("empty.vhd", new byte[0]));
        assertEquals(Images.Format.RAW, detect("small.vhd", new byte[100]));
        assertEquals(Images.Format.RAW, detect("zeros.vhd", new byte[4096]));
    }
}
