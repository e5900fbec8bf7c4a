package org.diskhost.backend.layer.sqlite;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import org.diskhost.api.DiskId;
import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves layer kind {@code sqlite-autocache}: a read cache for the layer below, kept in
 * {@code <cachePath>/<key>/cache.dbhd}, where the key is setting {@code cacheKey} or else the lower layer's disk id
 * (32 hex digits). An existing cache must have the lower layer's size. A missing one is created atomically: formatted
 * (logically read-only, with the lower layer's geometry) in a temporary directory beside it, then hard-linked into
 * place, so concurrent creators agree on one file and nobody sees a half-made cache. Use it with {@code readCache}.
 */
@Component(service = LayerResolver.class,
        property = DiskResolver.KIND_PROPERTY + "=" + SqliteAutoCacheResolver.KIND)
@ServiceProvider(value = LayerResolver.class, resolution = Resolution.OPTIONAL)
public final class SqliteAutoCacheResolver implements LayerResolver {
    public static final String KIND = "sqlite-autocache";
    static final String CACHE_PATH = "cachePath";
    static final String CACHE_KEY = "cacheKey";
    static final String FILE_NAME = "cache.dbhd";

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(CACHE_PATH, CACHE_KEY);
        Path cachePath = settings.path(CACHE_PATH);
        Optional<String> key = settings.optionalString(CACHE_KEY);
        key.ifPresent(k -> checkKey(settings, k));
        boolean readOnly = context.readOnly();
        return CompletableFuture.completedFuture(SqliteLayerResolver.attaching(
                below -> attach(settings, cachePath, key, readOnly, below)));
    }

    private static void checkKey(Settings settings, String key) {
        if (key.isEmpty()) {
            throw settings.invalid(CACHE_KEY, "must not be empty");
        }
        if (!key.matches("[A-Za-z0-9._-]+") || key.equals(".") || key.equals("..")) {
            throw settings.invalid(CACHE_KEY, "must be a file name of letters, digits, '.', '_' and '-', got \""
                    + key + "\"");
        }
    }

    private static LayerIo attach(Settings settings, Path cachePath, Optional<String> configuredKey,
            boolean readOnly, Optional<LowerLayer> below) {
        LowerLayer lower = below.orElseThrow(() -> settings.invalid(CACHE_PATH,
                "an auto-cache caches the layer below it, and there is none"));
        String key = configuredKey.orElseGet(() -> lower.diskId().map(DiskId::hex).orElseThrow(() ->
                settings.invalid(CACHE_KEY, "missing: cannot cache without a disk ID, and the disk below has none")));
        Path file = cachePath.resolve(key).resolve(FILE_NAME);
        if (!Files.exists(file)) {
            if (readOnly) {
                throw settings.failure("no cache at " + file + ", and a read-only cache cannot be created", null);
            }
            create(settings, file, new SqliteMeta(true, lower.sectorCount(), lower.sectorSize()));
        }
        SqliteLayer layer = SqliteLayerResolver.open(settings, file, readOnly);
        if (layer.sectorCount() != lower.sectorCount() || layer.sectorSize() != lower.sectorSize()) {
            long count = layer.sectorCount();
            int size = layer.sectorSize();
            layer.close();
            throw settings.failure("the cache " + file + " has " + count + " sectors of " + size + " bytes, but the "
                    + "disk below has " + lower.sectorCount() + " of " + lower.sectorSize(), null);
        }
        return layer;
    }

    /** Formats the cache in a temporary directory beside {@code file} and links it into place. */
    private static void create(Settings settings, Path file, SqliteMeta meta) {
        Path scratch = null;
        try {
            Files.createDirectories(file.getParent());
            scratch = Files.createTempDirectory(file.getParent(), ".creating-");
            Path made = scratch.resolve(FILE_NAME);
            SqliteStore.format(made, meta).close();
            try {
                Files.createLink(file, made);
            } catch (FileAlreadyExistsException e) {
                // A concurrent creator won: use its cache.
            }
        } catch (IOException | SQLException e) {
            throw settings.failure("cannot create the cache " + file, e);
        } finally {
            deleteQuietly(scratch);
        }
    }

    private static void deleteQuietly(Path directory) {
        if (directory == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
