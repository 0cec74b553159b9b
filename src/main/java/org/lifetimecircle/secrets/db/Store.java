package org.lifetimecircle.secrets.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * What differs between the two stores, in one place: the few SQL expressions and error codes that SQLite
 * and PostgreSQL spell differently, and the store's own housekeeping. Features ask this for the expression
 * instead of testing which store runs; everything else they write is SQL both accept.
 *
 * <p>The running store is {@code ltc-secrets.store}; the bean is produced by {@link Stores}.
 */
public interface Store {

    /** The two stores. */
    enum Kind {
        SQLITE("sqlite"), POSTGRESQL("postgresql");

        private final String configName;

        Kind(String configName) {
            this.configName = configName;
        }

        /** The value of {@code ltc-secrets.store}, and the migration directory's name. */
        public String configName() {
            return configName;
        }
    }

    Kind kind();

    /** The Flyway location of this store's migrations. */
    default String migrations() {
        return "db/migration/" + kind().configName();
    }

    /** SQL for the text of top-level field {@code field} of the JSON text in {@code column} (NULL if absent). */
    String jsonText(String column, String field);

    /** SQL for the integer value of top-level field {@code field} of the JSON text in {@code column}. */
    String jsonLong(String column, String field);

    /**
     * SQL for one text column holding a JSON array of {@code expressions} (comma-separated): numbers as
     * numbers, text as JSON strings, NULL as null. Separators may carry white space.
     */
    String jsonArray(String expressions);

    /**
     * A connection of its own, outside the pool, that only reads (audit exports and verifications hold a
     * snapshot as long as their client reads). {@code url} is the datasource's; {@code credentials} its user
     * and password, if any.
     */
    Connection openReadOnly(String url, Properties credentials) throws SQLException;
}
