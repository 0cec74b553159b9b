package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Grants and tokens whose expiry has passed but is not yet in the audit trail, and the mark that
 * says it is ({@code expiry_recorded_at}). Revoked ones are left out: their revocation was recorded.
 * The scheduler records the events; the SQL is here because the tables are access's.
 */
@ApplicationScoped
public class Expiring {

    /** A grant that expired at {@code expiresAt}, with its principal's name. */
    public record DueGrant(String id, String environment, String permission, Instant expiresAt, String principal) {
    }

    /** A token that expired at {@code expiresAt}, with its principal's name. */
    public record DueToken(String id, Instant expiresAt, String principal) {
    }

    private static final String MARK_GRANT = "update access_grant set expiry_recorded_at = ?1 where id = ?2 "
            + "and expiry_recorded_at is null and revoked_at is null";
    private static final String MARK_TOKEN = "update api_token set expiry_recorded_at = ?1 where id = ?2 "
            + "and expiry_recorded_at is null and revoked_at is null";

    private final EntityManager em;

    Expiring(EntityManager em) {
        this.em = em;
    }

    /** Up to {@code limit} unrecorded grants that expired at or before {@code at} (epoch ms), oldest first. */
    public List<DueGrant> grants(long at, int limit) {
        List<DueGrant> out = new ArrayList<>();
        for (Object[] g : rows("select g.id, g.environment, g.permission, g.expires_at, p.name from access_grant g "
                + "join principal p on p.id = g.principal_id where g.expiry_recorded_at is null "
                + "and g.revoked_at is null and g.expires_at <= ?1 order by g.expires_at limit " + limit, at)) {
            out.add(new DueGrant((String) g[0], (String) g[1], (String) g[2], instant(g[3]), (String) g[4]));
        }
        return out;
    }

    /** Up to {@code limit} unrecorded tokens that expired at or before {@code at} (epoch ms), oldest first. */
    public List<DueToken> tokens(long at, int limit) {
        List<DueToken> out = new ArrayList<>();
        for (Object[] t : rows("select t.id, t.expires_at, p.name from api_token t join principal p "
                + "on p.id = t.principal_id where t.expiry_recorded_at is null and t.revoked_at is null "
                + "and t.expires_at is not null and t.expires_at <= ?1 order by t.expires_at limit " + limit, at)) {
            out.add(new DueToken((String) t[0], instant(t[1]), (String) t[2]));
        }
        return out;
    }

    /**
     * Marks the grant's expiry as recorded at {@code at}, in the current transaction (a writer unit, so
     * the mark commits with its event). False if it was marked or revoked meanwhile: record nothing.
     */
    public boolean markGrant(String id, long at) {
        return mark(MARK_GRANT, id, at);
    }

    /** As {@link #markGrant}, for a token. */
    public boolean markToken(String id, long at) {
        return mark(MARK_TOKEN, id, at);
    }

    private boolean mark(String sql, String id, long at) {
        return em.createNativeQuery(sql).setParameter(1, at).setParameter(2, id).executeUpdate() > 0;
    }

    private List<Object[]> rows(String sql, long at) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery(sql).setParameter(1, at).getResultList();
        return rows;
    }

    private static Instant instant(Object epochMillis) {
        return Instant.ofEpochMilli(((Number) epochMillis).longValue());
    }
}
