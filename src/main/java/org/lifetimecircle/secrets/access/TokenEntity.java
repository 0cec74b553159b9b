package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;

/** An API token: only the SHA-256 of the token is stored, never the token itself. */
@Entity
@Table(name = "api_token")
public class TokenEntity extends PanacheEntityBase {

    /** Public id, also embedded in the token so lookup needs no comparison on the secret part. */
    @Id
    public String id;

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "principal_id", nullable = false)
    public PrincipalEntity principal;

    @Column(name = "token_hash", nullable = false)
    public byte[] tokenHash;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "created_by", nullable = false)
    public String createdBy;

    /** Null only on bootstrap tokens issued before they had an expiry; the next start gives them one. */
    @Column(name = "expires_at")
    public Instant expiresAt;

    /**
     * The time of the last request this token authenticated, whatever its outcome. Written only by
     * the audit writer, with that request's event; never by Hibernate, so a revocation flushed from a
     * stale entity cannot move it back.
     */
    @Column(name = "last_used_at", insertable = false, updatable = false)
    public Instant lastUsedAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @Column(name = "revoked_by")
    public String revokedBy;

    /** Whether the token may authenticate at {@code now}. */
    public boolean activeAt(Instant now) {
        return revokedAt == null && (expiresAt == null || now.isBefore(expiresAt));
    }
}
