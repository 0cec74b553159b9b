package org.lifetimecircle.secrets.audit;

import org.lifetimecircle.secrets.db.Store;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the access review reads from the audit trail: the successful uses of each grant (every such
 * event names its grant in {@code details.grant}) and how far the trail has been archived. The SQL is
 * here because the tables are audit's; it reads JSON details with SQLite's {@code json_extract}, the
 * one place that changes for another database. Runs in the caller's transaction.
 */
@ApplicationScoped
public class GrantUseEvents {

    /** A grant's successful uses in a window: how many, and the time of the last (RFC 3339). */
    public record Use(long count, String last) {
        public static final Use NONE = new Use(0, null);
    }

    /**
     * The newest archive: the last seq it holds, and the time before which events may be in archive
     * files (null if the database no longer says).
     */
    public record Archived(long throughSeq, Instant before) {
    }

    private final EntityManager em;
    private final Store store;

    GrantUseEvents(EntityManager em, Store store) {
        this.store = store;
        this.em = em;
    }

    /** The uses by grant id of the environment's grants in [from, to). */
    // Event times are fixed-width RFC 3339 text, so they compare as strings.
    public Map<String, Use> usesIn(String environment, Instant from, Instant to) {
        @SuppressWarnings("unchecked")
        String grant = store.jsonText("details", "grant");
        List<Object[]> rows = em.createNativeQuery("select " + grant + ", count(*), max(time) "
                        + "from audit_event where environment = ?1 and time >= ?2 and time < ?3 and outcome = 'SUCCESS' "
                        + "and " + grant + " is not null group by 1")
                .setParameter(1, environment)
                .setParameter(2, ChainHash.time(from))
                .setParameter(3, ChainHash.time(to))
                .getResultList();
        Map<String, Use> out = new HashMap<>();
        for (Object[] r : rows) {
            out.put((String) r[0], new Use(((Number) r[1]).longValue(), (String) r[2]));
        }
        return out;
    }

    /** The newest archive, if the trail has been archived. */
    public Optional<Archived> archived() {
        Number seq = (Number) em.createNativeQuery("select max(seq) from audit_anchor").getSingleResult();
        if (seq == null) {
            return Optional.empty();
        }
        // The archive's 'before' as its audit.archive event recorded it; failing that (that event archived
        // too, or unreadable) the time of the first event still in the database, the same bound or later.
        @SuppressWarnings("unchecked")
        List<Object> times = em.createNativeQuery("select coalesce((select " + store.jsonText("details", "before")
                        + " from audit_event where action = 'audit.archive' and outcome = 'SUCCESS' "
                        + "and " + store.jsonLong("details", "archivedThroughSeq") + " = ?1 order by seq desc limit 1), "
                        + "(select time from audit_event where seq > ?1 order by seq limit 1), "
                        + "(select signed_at from audit_anchor where seq = ?1))")
                .setParameter(1, seq.longValue())
                .getResultList();
        Object before = times.isEmpty() ? null : times.get(0);
        return Optional.of(new Archived(seq.longValue(), before == null ? null : Instant.parse((String) before)));
    }
}
