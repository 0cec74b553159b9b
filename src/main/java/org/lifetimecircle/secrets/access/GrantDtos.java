package org.lifetimecircle.secrets.access;

import java.time.Instant;
import java.util.List;

/** Request and response bodies of the grant and access-review endpoints. */
public final class GrantDtos {

    private GrantDtos() {
    }

    /**
     * {@code POST /grants}. Exactly one of {@code ttl} (ISO-8601 duration) and {@code expiresAt}
     * (RFC 3339) says until when. Checked in {@link GrantService}, which names the field at fault.
     */
    public record CreateGrant(String principal, String environment, String permission, String ttl, String expiresAt,
                       String reason) {
    }

    /** A grant as the API shows it, with its use so far. */
    public record GrantView(String id, String principal, String environment, String permission, String grantedBy,
                     Instant grantedAt, Instant expiresAt, String reason, boolean active, Instant revokedAt,
                     String revokedBy, String revokeReason, Instant lastUsedAt, long useCount, String approvedBy,
                     String approvalId) {
        public static GrantView of(GrantEntity g, Instant now) {
            return new GrantView(g.id, g.principal.name, g.environment, g.permission.id(), g.grantedBy, g.grantedAt,
                    g.expiresAt, g.reason, g.activeAt(now), g.revokedAt, g.revokedBy, g.revokeReason, g.lastUsedAt,
                    g.useCount, g.approvedBy, g.approvalId);
        }
    }

    /**
     * Who could use which environment-scoped permission on an environment during {@code [from, to)},
     * who granted it and why, and whether it was used in that window.
     */
    /**
     * {@code partlyArchived}: the window reaches back before {@code archivedBefore}, so uses older than
     * that are in an archive file, not counted here ({@code usesInWindow} undercounts them);
     * {@code archivedThroughSeq} and {@code archivedBefore} are null while nothing was archived.
     */
    record AccessReview(String environment, Instant from, Instant to, Instant generatedAt, List<ReviewEntry> entries,
                        boolean partlyArchived, Long archivedThroughSeq, Instant archivedBefore) {
    }

    /** One grant in force during the review window, with its principal's role and its uses in the window. */
    record ReviewEntry(String grantId, String principal, String role, boolean principalEnabled, String permission,
                       String grantedBy, Instant grantedAt, String reason, Instant expiresAt, Instant revokedAt,
                       String revokedBy, String revokeReason, long usesInWindow, String lastUseInWindow,
                       long useCount, Instant lastUsedAt, String approvedBy) {
    }
}
