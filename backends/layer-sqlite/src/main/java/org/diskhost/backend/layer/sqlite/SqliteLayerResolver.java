package org.diskhost.backend.layer.sqlite;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import org.diskhost.api.layer.LayerIo;
import org.diskhost.api.layer.LowerLayer;
import org.diskhost.api.layer.UnattachedLayer;
import org.diskhost.api.resolve.DiskResolver;
import org.diskhost.api.resolve.DiskSpec;
import org.diskhost.api.resolve.LayerResolver;
import org.diskhost.api.resolve.ResolveContext;
import org.diskhost.api.resolve.ResolveException;
import org.diskhost.api.resolve.Settings;
import org.osgi.service.component.annotations.Component;

import aQute.bnd.annotation.Resolution;
import aQute.bnd.annotation.spi.ServiceProvider;

/**
 * Resolves layer kind {@code sqlite}: a persistent layer in the SQLite file of setting {@code path}. The file is
 * formatted when it is attached if it does not exist ({@code create}, default true) or always ({@code format}, which
 * erases it); formatting takes the size from {@code size} or else the layer below, the sector size from the layer
 * below (else 512), and {@code logicallyReadOnly} (default false). An existing file keeps what it was formatted with.
 */
@Component(service = LayerResolver.class, property = DiskResolver.KIND_PROPERTY + "=" + SqliteLayerResolver.KIND)
@ServiceProvider(value = LayerResolver.class, resolution = Resolution.OPTIONAL)
public final class SqliteLayerResolver implements LayerResolver {
    public static final String KIND = "sqlite";
    static final String PATH = "path";
    static final String CREATE = "create";
    static final String FORMAT = "format";
    static final String SIZE = "size";
    static final String LOGICALLY_READ_ONLY = "logicallyReadOnly";

    /** How to open one layer file, from its settings. */
    private record Options(Path path, boolean create, boolean format, OptionalLong size, boolean logicallyReadOnly,
            boolean readOnly) {
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public CompletableFuture<UnattachedLayer> resolve(DiskSpec spec, ResolveContext context) {
        Settings settings = spec.settings();
        settings.allowOnly(PATH, CREATE, FORMAT, SIZE, LOGICALLY_READ_ONLY);
        Options options = new Options(settings.path(PATH), settings.bool(CREATE, true), settings.bool(FORMAT, false),
                settings.optionalSize(SIZE), settings.bool(LOGICALLY_READ_ONLY, false), context.readOnly());
        if (options.readOnly() && options.format()) {
            throw settings.invalid(FORMAT, "a read-only layer cannot be formatted");
        }
        return CompletableFuture.completedFuture(attaching(below -> attach(settings, options, below)));
    }

    /** A layer attached by {@code attach}, which throws a {@link ResolveException} when it cannot be. */
    static UnattachedLayer attaching(java.util.function.Function<Optional<LowerLayer>, LayerIo> attach) {
        return below -> {
            try {
                return CompletableFuture.completedFuture(attach.apply(below));
            } catch (ResolveException e) {
                return CompletableFuture.failedFuture(e);
            }
        };
    }

    private static LayerIo attach(Settings settings, Options options, Optional<LowerLayer> below) {
        Path path = options.path();
        boolean exists = Files.exists(path);
        if (options.format() || (!exists && options.create())) {
            if (options.readOnly()) {
                throw settings.invalid(PATH, path + " does not exist, and a read-only layer cannot create it");
            }
            SqliteMeta meta = geometry(settings, options, below);
            try {
                if (path.getParent() != null) {
                    Files.createDirectories(path.getParent());
                }
                return new SqliteLayer(SqliteStore.format(path, meta), meta);
            } catch (SQLException | java.io.IOException e) {
                throw settings.failure("cannot format " + path, e);
            }
        }
        if (!exists) {
            throw settings.failure("no such file: " + path + " (set '" + CREATE + "' to create it)", null);
        }
        return open(settings, path, options.readOnly());
    }

    /** Opens an existing layer file; opened read-only, it is logically read-only too. */
    static SqliteLayer open(Settings settings, Path path, boolean readOnly) {
        SqliteStore store = null;
        try {
            store = SqliteStore.open(path, readOnly);
            SqliteMeta meta = store.meta();
            return new SqliteLayer(store, readOnly && !meta.logicallyReadOnly()
                    ? new SqliteMeta(true, meta.sectorCount(), meta.sectorSize()) : meta);
        } catch (SQLException e) {
            if (store != null) {
                store.close();
            }
            throw settings.failure("cannot open " + path + " as a SQLite layer", e);
        }
    }

    /** The size and sector size of a new layer file, from {@code size} and the layer below. */
    private static SqliteMeta geometry(Settings settings, Options options, Optional<LowerLayer> below) {
        int sectorSize = below.map(LowerLayer::sectorSize).orElse(512);
        if (options.size().isEmpty() && below.isEmpty()) {
            throw settings.invalid(SIZE, "missing: a new SQLite layer with no layer below needs a size");
        }
        long bytes = options.size().isPresent() ? options.size().getAsLong() : below.orElseThrow().byteSize();
        if (bytes == 0 || bytes % sectorSize != 0) {
            throw settings.invalid(SIZE, "must be a non-zero multiple of the sector size " + sectorSize + ", got "
                    + bytes);
        }
        return new SqliteMeta(options.logicallyReadOnly(), bytes / sectorSize, sectorSize);
    }
}
