package org.lifetimecircle.secrets.secret;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.lifetimecircle.secrets.db.WalTruncation;

/** One version of a generated secret; the value only as an Envelope ciphertext bound to this row's names. */
@Entity
@Table(name = "secret_version")
public class SecretVersionEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false)
    public String environment;

    @Column(nullable = false)
    public String secret;

    @Column(nullable = false)
    public long version;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public VersionState state;

    /** Null once RETIRED or REVOKED: the value is destroyed, not just hidden. */
    public byte[] ciphertext;

    @Column(nullable = false)
    public String fingerprint;

    @Column(name = "rotation_id", nullable = false)
    public String rotationId;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    /** When it became CURRENT; printed in the env file's header so a version always renders the same bytes. */
    @Column(name = "promoted_at")
    public Instant promotedAt;

    /** When it became PREVIOUS: its grace runs from here. */
    @Column(name = "previous_since")
    public Instant previousSince;

    /** When it was RETIRED or REVOKED. */
    @Column(name = "ended_at")
    public Instant endedAt;

    /** Destroys the value and moves to a final state. */
    public void end(VersionState finalState, Instant now) {
        if (finalState != VersionState.RETIRED && finalState != VersionState.REVOKED) {
            throw new IllegalArgumentException("a version ends RETIRED or REVOKED");
        }
        state = finalState;
        ciphertext = null;
        endedAt = now;
        // The row no longer holds it; after the commit neither do the WAL's old frames.
        WalTruncation.afterCommitOfCurrentTransaction();
    }
}
