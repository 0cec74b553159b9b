package org.lifetimecircle.secrets.approval;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;
import org.lifetimecircle.secrets.access.PermissionConverter;
import org.lifetimecircle.secrets.access.PrincipalEntity;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.rotation.RotationKind;

/** A request waiting for (or decided by) a second person. Never deleted. */
@Entity
@Table(name = "approval")
public class ApprovalEntity extends PanacheEntityBase {

    @Id
    public String id;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public ApprovalKind kind;

    @Column(nullable = false)
    public String environment;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public ApprovalStatus status;

    @ManyToOne(fetch = FetchType.EAGER, optional = false)
    @JoinColumn(name = "requested_by_id", nullable = false)
    public PrincipalEntity requestedBy;

    @Column(name = "requested_at", nullable = false)
    public Instant requestedAt;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(nullable = false)
    public String reason;

    @Column(name = "policy_fingerprint", nullable = false)
    public String policyFingerprint;

    @ManyToOne(fetch = FetchType.EAGER)
    @JoinColumn(name = "grantee_id")
    public PrincipalEntity grantee;

    @Convert(converter = PermissionConverter.class)
    public Permission permission;

    @Column(name = "ttl_seconds")
    public Long ttlSeconds;

    public String secret;

    @Enumerated(EnumType.STRING)
    @Column(name = "rotation_kind")
    public RotationKind rotationKind;

    /** An IMPORT's value, sealed under the master key and bound to this approval; null once decided. */
    @Column(name = "import_ciphertext")
    public byte[] importCiphertext;

    @Column(name = "import_fingerprint")
    public String importFingerprint;

    @ManyToOne(fetch = FetchType.EAGER)
    @JoinColumn(name = "decided_by_id")
    public PrincipalEntity decidedBy;

    @Column(name = "decided_at")
    public Instant decidedAt;

    @Column(name = "decision_reason")
    public String decisionReason;

    @Column(name = "grant_id")
    public String grantId;

    @Column(name = "rotation_id")
    public String rotationId;

    /** Whether it lapsed: still PENDING in the row, but past its expiry (the scheduler records it soon). */
    public boolean lapsedAt(Instant now) {
        return status == ApprovalStatus.PENDING && !now.isBefore(expiresAt);
    }
}
