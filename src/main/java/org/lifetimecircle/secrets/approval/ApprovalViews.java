package org.lifetimecircle.secrets.approval;

import java.time.Duration;
import java.time.Instant;

/** Request and response bodies of the approval endpoints. */
public final class ApprovalViews {

    private ApprovalViews() {
    }

    /** {@code POST /approvals/{id}/approve} and {@code …/deny}. */
    public record DecisionRequest(String reason) {
    }

    /** The 202 answer of a grant or rotation request that waits for a second person. */
    public record Pending(ApprovalView approval) {
    }

    /**
     * One request as the API shows it. GRANT fills {@code principal}, {@code permission} and {@code ttl}
     * (counted from the approval); ROTATION fills {@code secret} and {@code rotationKind}. A PENDING request
     * past its expiry shows as EXPIRED even before the scheduler records the lapse.
     */
    public record ApprovalView(String id, ApprovalKind kind, String environment, ApprovalStatus status, String summary,
                               String requestedBy, Instant requestedAt, Instant expiresAt, String reason,
                               String principal, String permission, String ttl, String secret, String rotationKind,
                               String decidedBy, Instant decidedAt, String decisionReason, String grantId,
                               String rotationId) {

        public static ApprovalView of(ApprovalEntity a, Instant now) {
            return new ApprovalView(a.id, a.kind, a.environment,
                    a.lapsedAt(now) ? ApprovalStatus.EXPIRED : a.status, ApprovalViews.summary(a), a.requestedBy.name,
                    a.requestedAt, a.expiresAt, a.reason,
                    a.grantee == null ? null : a.grantee.name,
                    a.permission == null ? null : a.permission.id(),
                    a.ttlSeconds == null ? null : Duration.ofSeconds(a.ttlSeconds).toString(),
                    a.secret, a.rotationKind == null ? null : a.rotationKind.name(),
                    a.decidedBy == null ? null : a.decidedBy.name, a.decidedAt, a.decisionReason, a.grantId,
                    a.rotationId);
        }
    }

    /** One line a person can approve from: what takes effect if they say yes. */
    static String summary(ApprovalEntity a) {
        return a.kind == ApprovalKind.GRANT
                ? "grant " + a.permission.id() + " on " + a.environment + " to " + a.grantee.name + " for "
                        + Duration.ofSeconds(a.ttlSeconds)
                : a.rotationKind + " rotation of " + a.environment + "/" + a.secret;
    }
}
