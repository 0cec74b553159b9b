package org.lifetimecircle.secrets.secret;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.lifetimecircle.secrets.db.HotReads;

/**
 * The plain-JDBC read of {@code secret_version} (see the persistence rule in
 * {@link org.lifetimecircle.secrets.db}): an environment's CURRENT and PREVIOUS rows for serving its env
 * file on every fetch, from one autocommit statement (so a rotation that commits meanwhile is seen
 * entirely or not at all), without a transaction or a Hibernate session. The rows are detached and hold
 * only what rendering needs. Never for code that changes the rows, nor inside a writer unit (it would
 * not see the unit's own changes): those read the entities ({@link SecretVersionRepository#readable}).
 */
@ApplicationScoped
class SecretVersionRows {

    private static final String READABLE = "select secret, version, state, ciphertext, promoted_at from secret_version "
            + "where environment = ? and state in ('CURRENT', 'PREVIOUS')";

    private final HotReads reads;

    SecretVersionRows(HotReads reads) {
        this.reads = reads;
    }

    List<SecretVersionEntity> readable(String environment) {
        try {
            return reads.read(READABLE, ps -> ps.setString(1, environment), rs -> {
                List<SecretVersionEntity> rows = new ArrayList<>(4);
                while (rs.next()) {
                    SecretVersionEntity v = new SecretVersionEntity();
                    v.environment = environment;
                    v.secret = rs.getString(1);
                    v.version = rs.getLong(2);
                    v.state = VersionState.valueOf(rs.getString(3));
                    v.ciphertext = rs.getBytes(4);
                    long promoted = rs.getLong(5);
                    v.promotedAt = rs.wasNull() ? null : Instant.ofEpochMilli(promoted);
                    rows.add(v);
                }
                return rows;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("reading the versions of " + environment + " failed", e);
        }
    }
}
