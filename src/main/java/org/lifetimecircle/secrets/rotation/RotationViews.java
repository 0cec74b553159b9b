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

    /** A rotation with its journal; {@code secrets} is for EMERGENCY records (null otherwise). */
    record RotationView(String id, String environment, String secret, RotationKind kind, RotationStatus status,
                        Long fromVersion, Long toVersion, String requestedBy, String reason, Instant requestedAt,
                        Instant finishedAt, List<StepView> steps, List<Object> secrets) {
        static RotationView of(RotationEntity r, List<RotationStepEntity> steps) {
            return new RotationView(r.id, r.environment, r.secret, r.kind, r.status, r.fromVersion, r.toVersion,
                    r.requestedBy, r.reason, r.requestedAt, r.finishedAt, steps.stream().map(StepView::of).toList(),
                    null);
        }
    }

    /** One journaled step. */
    record StepView(String name, String status, Instant at, String detail) {
        static StepView of(RotationStepEntity s) {
            return new StepView(s.name, s.status, s.at, s.detail);
        }
    }
}
