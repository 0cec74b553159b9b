package org.lifetimecircle.secrets.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** SQLite's spelling (see {@link Store}). */
final class SqliteStore implements Store {

    /** SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE (extended result codes). */
    private static final int PRIMARY_KEY = 1555;
    private static final int UNIQUE = 2067;

    @Override
    public Kind kind() {
        return Kind.SQLITE;
    }

    @Override
    public String jsonText(String column, String field) {
        return "json_extract(" + column + ", '$." + field + "')";
    }

    @Override
    public String jsonLong(String column, String field) {
        return jsonText(column, field);
    }

    @Override
    public String jsonArray(String expressions) {
        return "json_array(" + expressions + ")";
    }

    @Override
    public Connection openReadOnly(String url, Properties credentials) throws SQLException {
        // The file without the pool's parameters: those set journal mode and synchronous, the writer's business.
        // sqlite-jdbc takes read-only only when it opens the file.
        int q = url.indexOf('?');
        org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(5000);
        return config.createConnection(q < 0 ? url : url.substring(0, q));
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.sqlite.SQLiteException s) {
                int code = s.getResultCode().code;
                if (code == PRIMARY_KEY || code == UNIQUE) {
                    return true;
                }
            }
            if (t instanceof SQLException s && s.getMessage() != null
                    && (s.getMessage().contains("UNIQUE constraint failed")
                    || s.getMessage().contains("PRIMARY KEY constraint failed"))) {
                return true;
            }
        }
        return false;
    }
}
