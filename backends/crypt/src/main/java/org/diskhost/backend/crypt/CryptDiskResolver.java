package org.diskhost.backend.crypt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.Disk;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves kind {@code crypt}: the disk in setting {@code disk}, encrypted with XTS-AES-256 (see {@link CryptDisk}).
 * The 64-byte key (data key, then tweak key) comes from exactly one of {@code key} (128 hex digits) or
 * {@code keyFile} (a file of exactly 64 raw bytes). The key is checked before the disk below is resolved: a key of
 * the wrong length or with equal halves is a {@code ParseError} of its setting. No message carries key material, and
 * the raw key bytes are wiped once the {@link XtsKey} holds them.
 */
@Component(service = DiskResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + CryptDiskResolver.KIND)
@ServiceProvider(value = DiskResolver.class, resolution = Resolution.OPTIONAL)
public final class CryptDiskResolver implements DiskResolver {
    public static final String KIND = "crypt";

    static final String DISK = "disk";
    static final String KEY = "key";
    static final String KEY_FILE = "keyFile";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<Disk> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(DISK, KEY, KEY_FILE);
        DiskSpec below = settings.disk(DISK);
        XtsKey key = key(settings);
        return context.resolve(below).thenApply(inner -> {
            try {
                return Disk.of(new CryptDisk(inner, new XtsAes256(key, inner.sectorSize())));
            } catch (IllegalStateException e) { // no AES in this JDK
                throw settings.failure(e.getMessage(), e.getCause());
            }
        });
    }

    /** The key from {@code key} or {@code keyFile}, checked before the disk below is opened. */
    private static XtsKey key(Settings settings) {
        boolean inline = settings.has(KEY);
        boolean file = settings.has(KEY_FILE);
        if (inline == file) {
            throw settings.invalid(inline ? KEY_FILE : KEY, inline
                    ? "give either 'key' or 'keyFile', not both"
                    : "missing: kind 'crypt' needs 'key' (" + 2 * XtsKey.BYTES + " hex digits) or 'keyFile' "
                            + "(a file of " + XtsKey.BYTES + " raw bytes)");
        }
        byte[] bytes = inline ? settings.optionalHex(KEY).orElseThrow() : readKeyFile(settings);
        try {
            return XtsKey.of(bytes);
        } catch (IllegalArgumentException e) { // its message names the problem, never key bytes
            throw settings.invalid(inline ? KEY : KEY_FILE, e.getMessage());
        } finally {
            Arrays.fill(bytes, (byte) 0); // the key holds its own copy
        }
    }

    private static byte[] readKeyFile(Settings settings) {
        Path path = settings.path(KEY_FILE);
        try {
            long size = Files.size(path); // checked first: a file of another size is no key, however large it is
            if (size != XtsKey.BYTES) {
                throw settings.invalid(KEY_FILE, "must be " + XtsKey.BYTES + " bytes (the data key, then the tweak "
                        + "key), got " + size + " bytes in " + path);
            }
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw settings.invalid(KEY_FILE, "no such file: " + path);
        } catch (IOException e) {
            throw settings.invalid(KEY_FILE, "cannot read " + path + ": " + e.getClass().getSimpleName());
        }
    }
}
