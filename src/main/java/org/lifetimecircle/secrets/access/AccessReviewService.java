package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.access.GrantDtos.AccessReview;
import org.lifetimecircle.secrets.access.GrantDtos.ReviewEntry;
import org.lifetimecircle.secrets.audit.ChainHash;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.web.ApiException;

/**
 * Answers "who could do what on this environment during that period, who granted it, and did they
 * use it": every grant in force at some moment of the window, with its uses in the window counted
 * from the audit trail (each successful use's event names its grant).
 */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class AccessReviewService {

    /** The window when none is given: the last 30 days. */
    static final Duration DEFAULT_WINDOW = Duration.ofDays(30);

    private final GrantRepository grants;
    private final EntityManager em;
    private final Clock clock;

    AccessReviewService(GrantRepository grants, EntityManager em, Clock clock) {
        this.grants = grants;
        this.em = em;
        this.clock = clock;
    }

    public AccessReview review(String environment, Optional<Instant> from, Optional<Instant> to,
                               Optional<Permission> permission) {
        Instant now = Clocks.now(clock);
        Instant end = to.orElse(now);
        Instant start = from.orElse(end.minus(DEFAULT_WINDOW));
        if (!start.isBefore(end)) {
            throw ApiException.invalid("'from' must be before 'to'");
        }
        Map<String, Use> uses = usesIn(environment, start, end);
        List<ReviewEntry> entries = grants.inForceDuring(environment, start, end).stream()
                .filter(g -> permission.map(p -> p == g.permission).orElse(true))
                .map(g -> {
                    Use u = uses.getOrDefault(g.id, Use.NONE);
                    return new ReviewEntry(g.id, g.principal.name, g.principal.role.id(), g.principal.enabled(),
                            g.permission.id(), g.grantedBy, g.grantedAt, g.reason, g.expiresAt, g.revokedAt,
                            g.revokedBy, g.revokeReason, u.count(), u.last(), g.useCount, g.lastUsedAt);
                })
                .toList();
        Optional<Archived> archived = archived();
        boolean partly = archived.isPresent() && start.isBefore(archived.get().before());
        return new AccessReview(environment, start, end, now, entries, partly,
                archived.map(Archived::throughSeq).orElse(null), archived.map(Archived::before).orElse(null));
    }

    /** The newest archive: the last seq it holds, and the time before which events may be in archive files. */
    private record Archived(long throughSeq, Instant before) {
    }

    private Optional<Archived> archived() {
        Number seq = (Number) em.createNativeQuery("select max(seq) from audit_anchor").getSingleResult();
        if (seq == null) {
            return Optional.empty();
        }
        // The archive's 'before' as its audit.archive event recorded it; failing that (that event archived
        // too, or unreadable) the time of the first event still in the database, the same bound or later.
        @SuppressWarnings("unchecked")
        List<Object> times = em.createNativeQuery("select coalesce((select json_extract(details, '$.before') "
                        + "from audit_event where action = 'audit.archive' and outcome = 'SUCCESS' "
                        + "and json_extract(details, '$.archivedThroughSeq') = ?1 order by seq desc limit 1), "
                        + "(select time from audit_event where seq > ?1 order by seq limit 1), "
                        + "(select signed_at from audit_anchor where seq = ?1))")
                .setParameter(1, seq.longValue())
                .getResultList();
        Object before = times.isEmpty() ? null : times.get(0);
        return Optional.of(new Archived(seq.longValue(), before == null ? Clocks.now(clock) : Instant.parse((String) before)));
    }

    private record Use(long count, String last) {
        static final Use NONE = new Use(0, null);
    }

    // Event times are fixed-width RFC 3339 text, so they compare as strings.
    private Map<String, Use> usesIn(String environment, Instant from, Instant to) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = em.createNativeQuery("select json_extract(details, '$.grant'), count(*), max(time) "
                        + "from audit_event where environment = ?1 and time >= ?2 and time < ?3 and outcome = 'SUCCESS' "
                        + "and json_extract(details, '$.grant') is not null group by 1")
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
}
