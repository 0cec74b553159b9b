package org.lifetimecircle.secrets.db;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The one JDBC driver the datasource names, handing each URL to SQLite's or PostgreSQL's driver.
 *
 * <p>Why: Quarkus fixes {@code quarkus.datasource.jdbc.driver} (and the persistence unit's datasource) at build
 * time, and Panache entities can belong to one persistence unit only, so one jar that runs on either store
 * keeps one datasource and one persistence unit and chooses the driver here, from the URL the run-time
 * configuration gives ({@code ltc-secrets.store}, {@link Store}).
 */
public final class StoreDriver implements Driver {

    private static final String SQLITE = "jdbc:sqlite:";
    private static final String POSTGRESQL = "jdbc:postgresql:";

    private final Driver sqlite = new org.sqlite.JDBC();
    private final Driver postgresql = new org.postgresql.Driver();

    private Driver target(String url) throws SQLException {
        if (url != null && url.startsWith(SQLITE)) {
            return sqlite;
        }
        if (url != null && url.startsWith(POSTGRESQL)) {
            return postgresql;
        }
        // No URL in the message: a PostgreSQL URL may carry a password as a parameter.
        throw new SQLException("ltc-secrets supports jdbc:sqlite: and jdbc:postgresql: URLs only");
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        if (url.startsWith(POSTGRESQL)) {
            return postgresql.connect(url, postgresqlSettings(info));
        }
        return sqlite.connect(url, info);
    }

    /**
     * PostgreSQL's connection settings, as the SQLite URL carries SQLite's: a transaction reads one snapshot
     * (REPEATABLE READ, what SQLite's WAL mode gives a read transaction; the single writer never conflicts), a
     * statement in a transaction fetches its rows in batches (an audit export streams, as on SQLite, instead of
     * loading the trail into the heap), the sessions name themselves in {@code pg_stat_activity}, and an
     * error's message leaves out the server's detail: a unique violation's detail quotes the row's key values
     * ({@code Key (name)=(…) already exists}), and our messages end up in log lines; the SQLSTATE and the
     * constraint's name, all the service acts on, stay. A setting the URL gives itself wins.
     */
    private static Properties postgresqlSettings(Properties info) {
        Properties p = new Properties();
        if (info != null) {
            p.putAll(info);
        }
        p.putIfAbsent("options", "-c default_transaction_isolation=repeatable\\ read");
        p.putIfAbsent("defaultRowFetchSize", "1000");
        p.putIfAbsent("ApplicationName", "ltc-secrets");
        p.putIfAbsent("logServerErrorDetail", "false");
        return p;
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && (url.startsWith(SQLITE) || url.startsWith(POSTGRESQL));
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) throws SQLException {
        return target(url).getPropertyInfo(url, info);
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }
}
