package org.lifetimecircle.secrets.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the test application's database refuse writes, then take them again: a real fault, in each store's own
 * form. SQLite: the database file (and its WAL) made immutable with {@code chattr +i}/{@code -i}, which even root
 * cannot write through; writes on open descriptors fail, and a connection SQLite opens meanwhile falls back to
 * read-only, as on a filesystem remounted read-only. PostgreSQL: the database turned read-only for new sessions
 * ({@code default_transaction_read_only}) and the service's sessions ended, as when a failover leaves the service
 * talking to a read-only server; its pool reconnects into read-only sessions until the setting is lifted.
 */
public final class ImmutableDatabase {

    private ImmutableDatabase() {
    }

    /** {@code true}: writes refused from now on; {@code false}: allowed again. */
    public static void set(boolean immutable) throws Exception {
        if (Db.postgresql()) {
            String url = TestDataDir.storeUrl();
            String database = url.substring(url.lastIndexOf('/') + 1);
            // From the cluster's maintenance database: a session of the read-only database could not lift it.
            try (var c = TestPostgres.connect(url.substring(0, url.lastIndexOf('/') + 1) + "postgres");
                 var st = c.createStatement()) {
                st.execute("ALTER DATABASE " + database + (immutable ? " SET default_transaction_read_only = on"
                        : " RESET default_transaction_read_only"));
                st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                        + "' AND application_name = 'ltc-secrets'");
            }
            return;
        }
        if (immutable) {
            AsRoot.assume("making the database file immutable (chattr +i)");
        }
        String flag = immutable ? "+i" : "-i";
        Path db = TestDataDir.dataDir().resolve("ltc-secrets.db");
        List<String> command = new ArrayList<>(List.of("chattr", flag, db.toString()));
        if (db.resolveSibling("ltc-secrets.db-wal").toFile().exists()) {
            command.add(db.resolveSibling("ltc-secrets.db-wal").toString());
        }
        Processes.Result r = Processes.run(command);
        assertThat(r.exit()).as("chattr " + flag + ": " + r.output()).isZero();
    }
}
