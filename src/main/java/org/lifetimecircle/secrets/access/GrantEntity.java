package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;
import org.lifetimecircle.secrets.auth.Permission;

/** A time-limited grant of one environment-scoped permission on one environment. Never deleted. */
@Entity
@Table(name = "access_grant")
public class GrantEntity extends PanacheEntityBase {

    @Id
    public String id;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "principal_id", nullable = false)
    public PrincipalEntity principal;

    @Column(nullable = false)
    public String environment;

    @Convert(converter = PermissionConverter.class)
    @Column(nullable = false)
    public Permission permission;

    @Column(name = "granted_by", nullable = false)
    public String grantedBy;

    @Column(name = "granted_at", nullable = false)
    public Instant grantedAt;

    @Column(name = "expires_at", nullable = false)
    public Instant expiresAt;

    @Column(nullable = false)
    public String reason;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Column(name = "revoked_by")
    public String revokedBy;

    @Column(name = "revoke_reason")
    public String revokeReason;

    /** Who approved it (two-person approval), or null when it needed no approval. */
    @Column(name = "approved_by")
    public String approvedBy;

    @Column(name = "approval_id")
    public String approvalId;

    /** Written by the audit writer with each successful use's event (plain SQL, see AuditWriter). */
    @Column(name = "last_used_at", insertable = false, updatable = false)
    public Instant lastUsedAt;

    @Column(name = "use_count", insertable = false, updatable = false)
    public long useCount;

    /** Whether the grant lets its principal act at {@code now}. */
    public boolean activeAt(Instant now) {
        return revokedAt == null && now.isBefore(expiresAt);
    }
}
