package org.diskhost.backend.layer.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * A layer file: a SQLite database in WAL mode with two tables, {@code sectors} (integer primary key {@code sector},
 * blob {@code data}: NULL for a sector of zeros, else exactly one sector) and {@code meta} (one row of
 * {@link SqliteMeta} JSON). Not thread-safe: {@link SqliteLayer} confines it to one thread.
 */
final class SqliteStore implements AutoCloseable {
    private final Connection connection;
    private final Path path;

    private SqliteStore(Connection connection, Path path) {
        this.connection = connection;
        this.path = path;
    }

    /**
     * Opens an existing layer file.
     *
     * @throws SQLException when it cannot be opened (it does not exist, or it is not a SQLite file)
     */
    static SqliteStore open(Path path, boolean readOnly) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(readOnly);
        config.resetOpenMode(SQLiteOpenMode.CREATE);
        config.setBusyTimeout(10_000);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL); // a flush makes writes durable (see sync)
        return new SqliteStore(config.createConnection("jdbc:sqlite:" + path), path);
    }

    /**
     * Creates (or empties) a layer file and writes its metadata: the reference's format steps.
     *
     * @throws SQLException when it cannot be written
     */
    static SqliteStore format(Path path, SqliteMeta meta) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(10_000);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        SqliteStore store = new SqliteStore(config.createConnection("jdbc:sqlite:" + path), path);
        try (Statement s = store.connection.createStatement()) {
            s.executeUpdate("DROP TABLE IF EXISTS sectors");
            s.executeUpdate("DROP TABLE IF EXISTS meta");
            s.executeUpdate("VACUUM");
            s.execute("PRAGMA journal_mode=WAL");
            s.executeUpdate("CREATE TABLE sectors (sector INTEGER NOT NULL PRIMARY KEY, data BLOB)");
            s.executeUpdate("CREATE TABLE meta (metadata TEXT NOT NULL)");
            try (PreparedStatement insert = store.connection.prepareStatement("INSERT INTO meta VALUES (?)")) {
                insert.setString(1, meta.toJson());
                insert.executeUpdate();
            }
        } catch (SQLException e) {
            store.close();
            throw e;
        }
        return store;
    }

    Path path() {
        return path;
    }

    /**
     * The metadata row.
     *
     * @throws SQLException when it is missing or cannot be read
     */
    SqliteMeta meta() throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rows = s.executeQuery("SELECT metadata FROM meta LIMIT 1")) {
            if (!rows.next()) {
                throw new SQLException(path + " has no metadata row");
            }
            try {
                return SqliteMeta.parse(rows.getString(1));
            } catch (IllegalArgumentException e) {
                throw new SQLException(path + ": " + e.getMessage(), e);
            }
        }
    }

    /** Receives the rows of {@link #read}: {@code data} is null for a sector of zeros. */
    @FunctionalInterface
    interface RowSink {
        void row(long sector, byte[] data) throws SQLException;
    }

    /** The stored sectors in {@code [from, to)}, in ascending order. */
    void read(long from, long to, RowSink sink) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT sector, data FROM sectors WHERE sector >= ? AND sector < ? ORDER BY sector")) {
            select.setLong(1, from);
            select.setLong(2, to);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    sink.row(rows.getLong(1), rows.getBytes(2));
                }
            }
        }
    }

    /** Receives the rows of {@link #presence}: whether the sector is a NULL row (zeros). */
    @FunctionalInterface
    interface PresenceSink {
        void row(long sector, boolean zero);
    }

    /** Which sectors in {@code [from, to)} have rows, in ascending order, without reading their data. */
    void presence(long from, long to, PresenceSink sink) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT sector, data IS NULL FROM sectors WHERE sector >= ? AND sector < ? ORDER BY sector")) {
            select.setLong(1, from);
            select.setLong(2, to);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    sink.row(rows.getLong(1), rows.getBoolean(2));
                }
            }
        }
    }

    /** Gives the data of each sector to store; null for zeros. */
    @FunctionalInterface
    interface SectorSource {
        byte[] sector(int index);
    }

    /** Stores {@code count} sectors from {@code first} in one transaction; without {@code overwrite}, only new ones. */
    void write(long first, int count, boolean overwrite, SectorSource source) throws SQLException {
        transaction(() -> {
            try (PreparedStatement insert = connection.prepareStatement((overwrite ? "INSERT OR REPLACE"
                    : "INSERT OR IGNORE") + " INTO sectors (sector, data) VALUES (?, ?)")) {
                for (int i = 0; i < count; i++) {
                    insert.setLong(1, first + i);
                    insert.setBytes(2, source.sector(i));
                    insert.addBatch();
                }
                insert.executeBatch();
            }
        });
    }

    /** Removes the rows of {@code [from, to)}: the sectors are no longer present. */
    void delete(long from, long to) throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement(
                "DELETE FROM sectors WHERE sector >= ? AND sector < ?")) {
            delete.setLong(1, from);
            delete.setLong(2, to);
            delete.executeUpdate();
        }
    }

    /** Stores NULL rows for {@code [from, to)}: the sectors are present and read as zeros. */
    void zero(long from, long to) throws SQLException {
        try (PreparedStatement zero = connection.prepareStatement("WITH RECURSIVE s(x) AS (SELECT ? UNION ALL "
                + "SELECT x + 1 FROM s WHERE x + 1 < ?) INSERT OR REPLACE INTO sectors (sector, data) "
                + "SELECT x, NULL FROM s")) {
            zero.setLong(1, from);
            zero.setLong(2, to);
            zero.executeUpdate();
        }
    }

    /**
     * Makes every committed write durable: with synchronous=FULL, a transaction that changes the user version syncs
     * the WAL; then back to NORMAL.
     */
    void sync() throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("PRAGMA synchronous=FULL");
            try {
                long version;
                try (ResultSet rows = s.executeQuery("PRAGMA user_version")) {
                    version = rows.next() ? rows.getLong(1) : 0;
                }
                s.execute("PRAGMA user_version=" + ((version + 1) & 0x7fffffff));
            } finally {
                s.execute("PRAGMA synchronous=NORMAL");
            }
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws SQLException;
    }

    private void transaction(Work work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            work.run();
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // nothing left to do with it
        }
    }
}
