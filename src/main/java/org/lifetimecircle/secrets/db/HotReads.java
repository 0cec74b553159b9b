package org.lifetimecircle.secrets.db;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.sqlite.SQLiteConnection;

/**
 * The hot reads every request or fetch makes (its token, its grant, the versions it serves): one autocommit
 * statement on a pooled connection. On SQLite the prepared statement is kept with the connection it was prepared
 * on and used again by the next read there: preparing (parsing and planning the SQL, a JNI round trip each way)
 * cost about 14 µs of a fetch's ~265 µs per statement, and a fetch makes three. PostgreSQL's driver keeps its
 * server-side statements itself, so there every read prepares as before.
 *
 * <p>A kept statement reads what is committed when it runs, like a fresh one: the result set is closed after every
 * read, which resets the statement and ends its read transaction (a statement left stepping would pin an old
 * snapshot and hold back WAL checkpoints). A connection is used by one thread at a time (the pool's), so are its
 * statements. When the pool closes a connection SQLite finalizes its statements, and the next new connection
 * sweeps the closed ones out of the map, which so holds about the pool's own (not a weak map: a statement refers
 * to its connection, so no entry would ever go). A read that fails drops its statement.
 */
@ApplicationScoped
public class HotReads {

    /** Binds a read's parameters. */
    @FunctionalInterface
    public interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** Turns a read's rows into its result, within the read. */
    @FunctionalInterface
    public interface Rows<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private final AgroalDataSource dataSource;
    /** Per SQLite connection, its kept statements by SQL; guarded by itself. */
    private final Map<SQLiteConnection, Map<String, PreparedStatement>> kept = new IdentityHashMap<>();

    HotReads(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs {@code sql} with {@code binder}'s parameters on a pooled connection and returns what {@code rows} makes. */
    public <T> T read(String sql, Binder binder, Rows<T> rows) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            if (!c.isWrapperFor(SQLiteConnection.class)) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    return run(ps, binder, rows);
                }
            }
            SQLiteConnection raw = c.unwrap(SQLiteConnection.class);
            Map<String, PreparedStatement> statements = statementsOf(raw);
            PreparedStatement ps = statements.get(sql);
            if (ps == null || ps.isClosed()) {
                ps = raw.prepareStatement(sql);
                statements.put(sql, ps);
            }
            try {
                return run(ps, binder, rows);
            } catch (SQLException | RuntimeException e) {
                statements.remove(sql);
                try {
                    ps.close();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    private Map<String, PreparedStatement> statementsOf(SQLiteConnection raw) {
        synchronized (kept) {
            Map<String, PreparedStatement> statements = kept.get(raw);
            if (statements == null) {
                kept.keySet().removeIf(HotReads::closed);
                statements = new HashMap<>(4);
                kept.put(raw, statements);
            }
            return statements;
        }
    }

    private static boolean closed(SQLiteConnection c) {
        try {
            return c.isClosed();
        } catch (SQLException e) {
            return true;
        }
    }

    /** How many connections have statements kept (tests: about the pool's size, however often it renews them). */
    int connectionsKept() {
        synchronized (kept) {
            return kept.size();
        }
    }

    private static <T> T run(PreparedStatement ps, Binder binder, Rows<T> rows) throws SQLException {
        binder.bind(ps);
        try (ResultSet rs = ps.executeQuery()) {
            return rows.read(rs);
        }
    }
}
