package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.db.HotReads;

/**
 * The two reads every {@code /api/v1} request makes (its token, and for environment-scoped
 * permissions its grant), as plain JDBC on an autocommit connection held for one statement.
 * They run on every request straight from the database, never cached, so a revocation counts from
 * the next request ({@link HotReads} keeps only the prepared statements); plain JDBC because Hibernate's query translation, entity loading and the
 * request-scoped session cost more than the lookups themselves, and every microsecond a request
 * holds one of the pool's four connections is one the single audit writer may wait for.
 */
@ApplicationScoped
class AccessLookups {

    /** A token row with its principal; {@code hash} is compared by the caller in constant time. */
    record TokenRow(byte[] hash, Long expiresAt, Long revokedAt, long principalId, String principal, Role role,
                    boolean principalEnabled) {

        /** As {@link TokenEntity#activeAt}: not revoked, and no expiry or one after {@code now}. */
        boolean activeAt(Instant now) {
            return revokedAt == null && (expiresAt == null || now.toEpochMilli() < expiresAt);
        }

        @Override
        public String toString() {
            return "TokenRow[principal=" + principal + "]";
        }
    }

    private static final String TOKEN = "select t.token_hash, t.expires_at, t.revoked_at, p.id, p.name, p.role, "
            + "p.disabled_at from api_token t join principal p on p.id = t.principal_id where t.id = ?";
    // Served by the index access_grant_lookup (principal_id, environment, permission, expires_at).
    private static final String GRANT = "select id from access_grant where principal_id = ? and environment = ? "
            + "and permission = ? and revoked_at is null and expires_at > ? order by expires_at desc limit 1";

    private final HotReads reads;

    AccessLookups(HotReads reads) {
        this.reads = reads;
    }

    Optional<TokenRow> token(String id) {
        try {
            return reads.read(TOKEN, ps -> ps.setString(1, id), rs -> {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Role role = Role.fromId(rs.getString(6))
                        .orElseThrow(() -> new IllegalStateException("unknown role in database"));
                return Optional.of(new TokenRow(rs.getBytes(1), nullableLong(rs, 2), nullableLong(rs, 3), rs.getLong(4),
                        rs.getString(5), role, nullableLong(rs, 7) == null));
            });
        } catch (SQLException e) {
            throw new IllegalStateException("token lookup failed", e);
        }
    }

    /** The id of a grant of the triple that is neither revoked nor expired at {@code now}. */
    Optional<String> activeGrantId(long principalId, String environment, Permission permission, Instant now) {
        try {
            return reads.read(GRANT, ps -> {
                ps.setLong(1, principalId);
                ps.setString(2, environment);
                ps.setString(3, permission.id());
                ps.setLong(4, now.toEpochMilli());
            }, rs -> rs.next() ? Optional.of(rs.getString(1)) : Optional.empty());
        } catch (SQLException e) {
            throw new IllegalStateException("grant lookup failed", e);
        }
    }

    private static Long nullableLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }
}
