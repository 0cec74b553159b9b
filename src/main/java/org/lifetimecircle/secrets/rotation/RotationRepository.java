package org.lifetimecircle.secrets.rotation;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Parameters;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Rotations and their steps. */
@ApplicationScoped
public class RotationRepository implements PanacheRepositoryBase<RotationEntity, String> {

    /** A PENDING or RUNNING rotation of the secret, if any: there is at most one. */
    public Optional<RotationEntity> active(String environment, String secret) {
        return find("environment = ?1 and secret = ?2 and status in ?3", environment, secret,
                List.of(RotationStatus.PENDING, RotationStatus.RUNNING)).firstResultOptional();
    }

    /** Every PENDING or RUNNING rotation of an environment (what an emergency pre-empts). */
    public List<RotationEntity> activeIn(String environment) {
        return list("environment = ?1 and status in ?2", environment,
                List.of(RotationStatus.PENDING, RotationStatus.RUNNING));
    }

    /** The secrets an EMERGENCY covered: name, from and to version. */
    public List<Object[]> emergencySecrets(String rotationId) {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = getEntityManager().createNativeQuery("select secret, from_version, to_version "
                + "from emergency_secret where rotation_id = ?1 order by secret").setParameter(1, rotationId)
                .getResultList();
        return rows;
    }

    /** Whether a SCHEDULED rotation away from this version was ever requested (the scheduler tries once). */
    public boolean scheduledFrom(String environment, String secret, long fromVersion) {
        return count("environment = ?1 and secret = ?2 and kind = ?3 and fromVersion = ?4", environment, secret,
                RotationKind.SCHEDULED, fromVersion) > 0;
    }

    /** Finished rotations counted by environment, kind and status: {@code [environment, kind, status, count]}. */
    public List<Object[]> finishedCounts() {
        @SuppressWarnings("unchecked")
        List<Object[]> rows = getEntityManager().createNativeQuery("select environment, kind, status, count(*) "
                + "from rotation where status in ('COMPLETED', 'FAILED', 'ROLLED_BACK') "
                + "group by environment, kind, status").getResultList();
        return rows;
    }

    /** PENDING rotations requested before {@code before}, oldest first (those the scheduler checks for a job). */
    public List<RotationEntity> pendingRequestedBefore(java.time.Instant before) {
        return list("status = ?1 and requestedAt < ?2 order by requestedAt", RotationStatus.PENDING, before);
    }

    /** Every PENDING or RUNNING rotation: what a crash left behind, at start. */
    public List<RotationEntity> unfinished() {
        return list("status in ?1 order by requestedAt", List.of(RotationStatus.PENDING, RotationStatus.RUNNING));
    }

    public List<RotationStepEntity> steps(String rotationId) {
        return getEntityManager().createQuery("from RotationStepEntity s where s.rotationId = ?1 order by s.id",
                RotationStepEntity.class).setParameter(1, rotationId).getResultList();
    }

    /** Newest first, each filter optional. */
    public List<RotationEntity> search(Optional<String> environment, Optional<RotationKind> kind,
                                       Optional<RotationStatus> status, int limit) {
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        environment.ifPresent(e -> {
            where.add("environment = :environment");
            params.and("environment", e);
        });
        kind.ifPresent(k -> {
            where.add("kind = :kind");
            params.and("kind", k);
        });
        status.ifPresent(s -> {
            where.add("status = :status");
            params.and("status", s);
        });
        String query = (where.isEmpty() ? "" : String.join(" and ", where) + " ") + "order by requestedAt desc, id";
        return find(query, params).page(0, limit).list();
    }

    /** The emergencies recorded under an incident id, newest first. */
    public List<RotationEntity> emergenciesOf(String incident) {
        return list("kind = ?1 and incident = ?2 order by requestedAt desc, id", RotationKind.EMERGENCY, incident);
    }

    /**
     * Emergencies awaiting their review that started before {@code before}, oldest first; with
     * {@code unalertedOnly} only those whose overdue alert has not gone out yet.
     */
    public List<RotationEntity> awaitingReviewSince(Instant before, boolean unalertedOnly) {
        return list("kind = ?1 and reviewRequired = 1 and reviewedAt is null and requestedAt < ?2"
                + (unalertedOnly ? " and reviewAlertedAt is null" : "") + " order by requestedAt, id",
                RotationKind.EMERGENCY, before);
    }
}
