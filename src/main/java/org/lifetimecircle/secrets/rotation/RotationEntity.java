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
}
