package org.lifetimecircle.secrets.rotation;

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

/** One journaled step of a rotation, written in the same commit as the state change it records. */
@Entity
@Table(name = "rotation_step")
public class RotationStepEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "rotation_id", nullable = false)
    public String rotationId;

    @Column(nullable = false)
    public String name;

    /** Stored by name: DONE, FAILED or SKIPPED. */
    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    public StepStatus status;

    @Column(nullable = false)
    public Instant at;

    /** Names, versions, hashes and reasons only; never a value. */
    public String detail;

    static RotationStepEntity of(String rotationId, String name, StepStatus status, Instant at, String detail) {
        RotationStepEntity s = new RotationStepEntity();
        s.rotationId = rotationId;
        s.name = name;
        s.status = status;
        s.at = at;
        s.detail = detail;
        return s;
    }
}
