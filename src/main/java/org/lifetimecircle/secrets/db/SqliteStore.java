package org.lifetimecircle.secrets.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** SQLite's spelling (see {@link Store}). */
final class SqliteStore implements Store {

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
}
