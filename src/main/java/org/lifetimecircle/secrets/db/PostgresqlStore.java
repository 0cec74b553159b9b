package org.lifetimecircle.secrets.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/** PostgreSQL's spelling (see {@link Store}). */
final class PostgresqlStore implements Store {

    @Override
    public Kind kind() {
        return Kind.POSTGRESQL;
    }

    @Override
    public String jsonText(String column, String field) {
        return "((" + column + ")::jsonb ->> '" + field + "')";
    }

    @Override
    public String jsonLong(String column, String field) {
        return "((" + column + ")::jsonb ->> '" + field + "')::bigint";
    }

    @Override
    public String jsonArray(String expressions) {
        // json (not jsonb): keeps each string exactly as stored; ::text so the driver hands out its bytes.
        return "json_build_array(" + expressions + ")::text";
    }

    @Override
    public Connection openReadOnly(String url, Properties credentials) throws SQLException {
        Connection c = new StoreDriver().connect(url, credentials);
        c.setReadOnly(true);
        return c;
    }
}
