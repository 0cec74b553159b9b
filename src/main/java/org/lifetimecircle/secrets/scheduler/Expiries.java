package org.lifetimecircle.secrets.scheduler;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;

/**
 * Records the moment grants and tokens lapse: expiry already takes effect on the next request (the
 * access check compares with the clock), so this only makes it visible in the audit trail, one
 * {@code grant.expire} or {@code token.expire} event per grant or token, marked so it is never
 * recorded twice. Revoked ones are not recorded again: their revocation was.
 */
@ApplicationScoped
class Expiries {

    /** Enough for any real backlog in one run; the rest follows in the next. */
    private static final int BATCH = 500;

    private final AuditWriter writer;
    private final EntityManager em;

    Expiries(AuditWriter writer, EntityManager em) {
        this.writer = writer;
        this.em = em;
    }

    /** Records every grant and token that expired at or before {@code now}; returns how many. */
    int record(Instant now) {
        long at = Clocks.truncate(now).toEpochMilli();
        int recorded = 0;
        for (Object[] g : due("select g.id, g.environment, g.permission, g.expires_at, p.name from access_grant g "
                + "join principal p on p.id = g.principal_id where g.expiry_recorded_at is null "
                + "and g.revoked_at is null and g.expires_at <= ?1 order by g.expires_at limit " + BATCH, at)) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("grant", g[0]);
            d.put("principal", g[4]);
            d.put("permission", g[2]);
            d.put("expiresAt", Instant.ofEpochMilli(((Number) g[3]).longValue()).toString());
            if (mark("access_grant", (String) g[0], at, new AuditDraft(Housekeeping.SCHEDULER, "grant.expire",
                    (String) g[1], (String) g[0], Outcome.SUCCESS, null, null, d))) {
                recorded++;
            }
        }
        for (Object[] t : due("select t.id, t.expires_at, p.name from api_token t join principal p "
                + "on p.id = t.principal_id where t.expiry_recorded_at is null and t.revoked_at is null "
                + "and t.expires_at is not null and t.expires_at <= ?1 order by t.expires_at limit " + BATCH, at)) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("token", t[0]);
            d.put("principal", t[2]);
            d.put("expiresAt", Instant.ofEpochMilli(((Number) t[1]).longValue()).toString());
            if (mark("api_token", (String) t[0], at, new AuditDraft(Housekeeping.SCHEDULER, "token.expire", null,
                    (String) t[0], Outcome.SUCCESS, null, null, d))) {
                recorded++;
            }
        }
        return recorded;
    }

    private List<Object[]> due(String sql, long at) {
        return read(() -> {
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery(sql).setParameter(1, at).getResultList();
            return rows;
        });
    }

    // The mark and its event in one commit; a row marked meanwhile (a parallel run) records nothing.
    private boolean mark(String table, String id, long at, AuditDraft event) {
        try {
            return writer.submit(new Unit<>(() -> {
                int n = em.createNativeQuery("update " + table + " set expiry_recorded_at = ?1 where id = ?2 "
                        + "and expiry_recorded_at is null and revoked_at is null").setParameter(1, at)
                        .setParameter(2, id).executeUpdate();
                if (n == 0) {
                    throw new NothingToDo();
                }
                return true;
            }, ok -> event, null));
        } catch (NothingToDo e) {
            return false;
        }
    }
}
