package org.lifetimecircle.secrets.rotation;

import java.time.Instant;
import java.util.List;

/** Request and response bodies of the rotation endpoints. */
final class RotationViews {

    private RotationViews() {
    }

    /** {@code POST …/rotations} and {@code …/rollback}. */
    record RotateRequest(String reason) {
    }

    /** {@code POST …/import}: the value is never logged, echoed or put in an error. */
    record ImportRequest(String value, String reason) {
        @Override
        public String toString() {
            return "ImportRequest[value=<redacted>, reason=" + reason + "]";
        }
    }

    /** {@code POST …/emergency-rotations}. */
    record EmergencyRequest(String reason, String incident) {
    }

    /**
     * A rotation with its journal. An EMERGENCY covers every secret of its environment: {@code secret}
     * is null and {@code secrets} lists them; for other kinds {@code secrets} is null.
     */
    record RotationView(String id, String environment, String secret, RotationKind kind, RotationStatus status,
                        Long fromVersion, Long toVersion, String requestedBy, String reason, String incident,
                        Instant requestedAt, Instant finishedAt, List<StepView> steps, List<SecretChange> secrets,
                        String approvedBy, String approvalId) {
        static RotationView of(RotationEntity r, RotationRepository repository) {
            return of(r, repository, List.of());
        }

        /**
         * With the steps a running job has made but not yet journaled ({@link LiveSteps}) after the journaled
         * ones: a step is listed once, journaled or live.
         */
        static RotationView of(RotationEntity r, RotationRepository repository, List<StageSteps.Step> live) {
            List<SecretChange> secrets = r.kind != RotationKind.EMERGENCY ? null
                    : repository.emergencySecrets(r.id).stream().map(SecretChange::of).toList();
            List<StepView> steps = new java.util.ArrayList<>(repository.steps(r.id).stream().map(StepView::of).toList());
            if (!r.status.finished()) {
                live.stream().map(s -> new StepView(s.name(), s.status(), s.at(), s.detail()))
                        .filter(s -> !steps.contains(s)).forEach(steps::add);
            }
            return new RotationView(r.id, r.environment, r.secret, r.kind, r.status, r.fromVersion, r.toVersion,
                    r.requestedBy, r.reason, r.incident, r.requestedAt, r.finishedAt, List.copyOf(steps), secrets,
                    r.approvedBy, r.approvalId);
        }
    }

    /** One secret of an EMERGENCY: the version it replaced (REVOKED) and the new CURRENT. */
    record SecretChange(String name, Long fromVersion, Long toVersion) {
        static SecretChange of(Object[] row) {
            return new SecretChange((String) row[0], row[1] == null ? null : ((Number) row[1]).longValue(),
                    ((Number) row[2]).longValue());
        }
    }

    /**
     * One emergency procedure, as {@code GET /incidents} lists it. {@code reviewRequired}: it ran in an
     * environment with two-person approval, so a second person reviews it afterwards ({@code reviewedBy}, …).
     */
    record IncidentView(String incident, String rotationId, String environment, String requestedBy, String reason,
                        Instant requestedAt, Instant finishedAt, RotationStatus outcome, boolean reviewRequired,
                        String reviewedBy, Instant reviewedAt, String reviewReason) {
        static IncidentView of(RotationEntity r) {
            return new IncidentView(r.incident, r.id, r.environment, r.requestedBy, r.reason, r.requestedAt,
                    r.finishedAt, r.status, r.reviewRequired == 1, r.reviewedBy, r.reviewedAt, r.reviewReason);
        }
    }

    /** {@code POST /incidents/{incident}/review}. */
    record ReviewRequest(String reason) {
    }

    /** One journaled step. */
    record StepView(String name, StepStatus status, Instant at, String detail) {
        static StepView of(RotationStepEntity s) {
            return new StepView(s.name, s.status, s.at, s.detail);
        }
    }
}
