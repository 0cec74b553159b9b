package org.lifetimecircle.secrets.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the test application's database file (and its WAL) unwritable and writable again with
 * {@code chattr +i}/{@code -i}: a real fault that even root cannot write through. Writes on open
 * descriptors fail, and a connection SQLite opens meanwhile falls back to read-only, as on a
 * filesystem remounted read-only.
 */
public final class ImmutableDatabase {

    private ImmutableDatabase() {
    }

    /** {@code true}: writes refused from now on; {@code false}: allowed again. */
    public static void set(boolean immutable) throws Exception {
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
