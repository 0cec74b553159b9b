package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.access.GrantDtos.AccessReview;
import org.lifetimecircle.secrets.access.GrantDtos.ReviewEntry;
import org.lifetimecircle.secrets.audit.ChainHash;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.audit.GrantUseEvents;
import org.lifetimecircle.secrets.audit.GrantUseEvents.Archived;
import org.lifetimecircle.secrets.audit.GrantUseEvents.Use;
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
    private final GrantUseEvents trail;
    private final Clock clock;

    AccessReviewService(GrantRepository grants, GrantUseEvents trail, Clock clock) {
        this.grants = grants;
        this.trail = trail;
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
        Map<String, Use> uses = trail.usesIn(environment, start, end);
        List<ReviewEntry> entries = grants.inForceDuring(environment, start, end).stream()
                .filter(g -> permission.map(p -> p == g.permission).orElse(true))
                .map(g -> {
                    Use u = uses.getOrDefault(g.id, Use.NONE);
                    return new ReviewEntry(g.id, g.principal.name, g.principal.role.id(), g.principal.enabled(),
                            g.permission.id(), g.grantedBy, g.grantedAt, g.reason, g.expiresAt, g.revokedAt,
                            g.revokedBy, g.revokeReason, u.count(), u.last(), g.useCount, g.lastUsedAt,
                            g.approvedBy);
                })
                .toList();
        // No time left in the database for the archive's bound: now, the latest it can be.
        Optional<Archived> archived = trail.archived()
                .map(a -> a.before() != null ? a : new Archived(a.throughSeq(), Clocks.now(clock)));
        boolean partly = archived.isPresent() && start.isBefore(archived.get().before());
        return new AccessReview(environment, start, end, now, entries, partly,
                archived.map(Archived::throughSeq).orElse(null), archived.map(Archived::before).orElse(null));
    }
}
