package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.db.ReadTransaction;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * The review of an emergency in an environment with two-person approval: the emergency ran at once
 * (it never waits), so a second person looks at it afterwards. One left unreviewed for a day is alerted
 * once, counted in {@code ltc_incidents_unreviewed} and named by {@code /health}.
 */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class IncidentReviews {

    /** How long an emergency may wait for its review before it is alerted and reported. */
    public static final Duration OVERDUE_AFTER = Duration.ofDays(1);
    // The incident ids emergencies accept (EmergencyResource); the generated EMR-<id> matches too.
    private static final Pattern INCIDENT = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private record Reviewed(RotationEntity rotation, boolean already) {
    }

    private final RotationRepository rotations;
    private final AuditService audit;
    private final AuditWriter writer;
    private final Alerts alerts;
    private final Clock clock;

    IncidentReviews(RotationRepository rotations, AuditService audit, AuditWriter writer, Alerts alerts,
                    Clock clock) {
        this.rotations = rotations;
        this.audit = audit;
        this.writer = writer;
        this.alerts = alerts;
        this.clock = clock;
    }

    /**
     * Records {@code caller}'s review of every emergency of {@code incident} awaiting one. 404 unknown,
     * 409 when none of them needs a review, 403 for the person who ran it; reviewing a reviewed incident
     * changes nothing (200, the review as it stands).
     */
    @Transactional(Transactional.TxType.NEVER)
    public RotationEntity review(String incident, String reasonText, Caller caller) {
        if (incident == null || !INCIDENT.matcher(incident).matches()) {
            throw ApiException.invalid("incident must match [A-Za-z0-9._:-]{1,64}, e.g. INC-2026-0042");
        }
        Reason reason = Reason.of("reason", reasonText);
        String environment = rotations.emergenciesOf(incident).stream().map(r -> r.environment).findFirst()
                .orElse(null);
        Reviewed done = audit.mutate("incident.review", environment, incident, () -> {
            List<RotationEntity> emergencies = rotations.emergenciesOf(incident);
            if (emergencies.isEmpty()) {
                throw ApiException.notFound("no incident '" + incident + "'");
            }
            List<RotationEntity> reviewable = emergencies.stream().filter(r -> r.reviewRequired == 1).toList();
            if (reviewable.isEmpty()) {
                throw ApiException.conflict("incident '" + incident + "' needs no review: its environment had no "
                        + "two-person approval when it ran");
            }
            if (reviewable.stream().anyMatch(r -> r.requestedBy.equals(caller.name()))) {
                throw ApiException.forbidden("the person who ran an emergency cannot review it: a second person must");
            }
            Instant now = Clocks.now(clock);
            boolean already = true;
            for (RotationEntity r : reviewable) {
                if (r.reviewedAt == null) {
                    r.reviewedBy = caller.name();
                    r.reviewedAt = now;
                    r.reviewReason = reason.value();
                    already = false;
                }
            }
            return new Reviewed(reviewable.get(0), already);
        }, r -> {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("rotationId", r.rotation().id);
            d.put("reviewedBy", r.rotation().reviewedBy);
            d.put("alreadyReviewed", r.already());
            d.put("reason", reason.value());
            return d;
        });
        return done.rotation();
    }

    /**
     * Alerts, once each, every emergency awaiting its review for longer than {@link #OVERDUE_AFTER}
     * (marked in the same commit as its {@code incident.review-overdue} event). Returns how many.
     */
    public int alertOverdue(Instant now) {
        Instant cutoff = now.minus(OVERDUE_AFTER);
        List<String> due = ReadTransaction.read(() -> rotations.awaitingReviewSince(cutoff, true)).stream()
                .map(r -> r.id).toList();
        int alerted = 0;
        for (String id : due) {
            try {
                RotationEntity r = writer.submit(new Unit<>(() -> {
                    RotationEntity row = rotations.findById(id);
                    if (row == null || !row.awaitingReview() || row.reviewAlertedAt != null) {
                        throw new NothingToDo();
                    }
                    row.reviewAlertedAt = Clocks.truncate(now);
                    return row;
                }, row -> AuditDraft.by(Actors.SCHEDULER).action("incident.review-overdue")
                        .environment(row.environment).target(row.incident).details(overdueDetails(row)), null));
                alerts.raise("incident.unreviewed", r.environment, "emergency rotation " + r.id + " (incident "
                        + r.incident + ") ran " + r.requestedAt + " and has not been reviewed by a second person",
                        overdueDetails(r));
                alerted++;
            } catch (NothingToDo e) {
                // reviewed or alerted meanwhile
            }
        }
        return alerted;
    }

    /** Emergencies awaiting review for longer than a day (health, metrics). */
    public List<RotationEntity> overdue() {
        Instant cutoff = clock.instant().minus(OVERDUE_AFTER);
        return ReadTransaction.read(() -> rotations.awaitingReviewSince(cutoff, false));
    }

    private static Map<String, Object> overdueDetails(RotationEntity r) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("rotationId", r.id);
        d.put("incident", r.incident);
        d.put("requestedBy", r.requestedBy);
        d.put("requestedAt", r.requestedAt.toString());
        return d;
    }
}
