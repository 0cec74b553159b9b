package org.lifetimecircle.secrets.secret;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

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

    private final AgroalDataSource dataSource;

    SecretVersionRows(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    List<SecretVersionEntity> readable(String environment) {
        List<SecretVersionEntity> rows = new ArrayList<>(4);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READABLE)) {
            ps.setString(1, environment);
            try (ResultSet rs = ps.executeQuery()) {
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
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the versions of " + environment + " failed", e);
        }
        return rows;
    }
}
