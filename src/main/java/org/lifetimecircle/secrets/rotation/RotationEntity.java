package org.lifetimecircle.secrets.rotation;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A rotation job: what was asked, by whom, and how far it got (its steps are its journal). */
@Entity
@Table(name = "rotation")
public class RotationEntity extends PanacheEntityBase {

    @Id
    public String id;

    @Column(nullable = false)
    public String environment;

    /** Null only for an EMERGENCY, which covers every secret of its environment. */
    public String secret;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public RotationKind kind;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public RotationStatus status;

    @Column(name = "from_version")
    public Long fromVersion;

    @Column(name = "to_version")
    public Long toVersion;

    @Column(name = "requested_by", nullable = false)
    public String requestedBy;

    @Column(nullable = false)
    public String reason;

    @Column(name = "requested_at", nullable = false)
    public Instant requestedAt;

    @Column(name = "finished_at")
    public Instant finishedAt;

    public String incident;

    /** Who approved it (two-person approval), or null when it needed no approval. */
    @Column(name = "approved_by")
    public String approvedBy;

    @Column(name = "approval_id")
    public String approvalId;

    /** 1 for an EMERGENCY in an environment with approvals: it ran at once and waits for a second person's review. */
    @Column(name = "review_required", nullable = false)
    public int reviewRequired;

    @Column(name = "reviewed_by")
    public String reviewedBy;

    @Column(name = "reviewed_at")
    public Instant reviewedAt;

    @Column(name = "review_reason")
    public String reviewReason;

    @Column(name = "review_alerted_at")
    public Instant reviewAlertedAt;

    /** Whether this emergency still waits for its review. */
    public boolean awaitingReview() {
        return reviewRequired == 1 && reviewedAt == null;
    }
}
