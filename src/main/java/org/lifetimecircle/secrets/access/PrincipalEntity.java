package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.lifetimecircle.secrets.auth.Role;

/** A principal row. Rows are never deleted: disabling keeps the history and the name taken. */
@Entity
@Table(name = "principal")
public class PrincipalEntity extends PanacheEntityBase {

    // IDENTITY, not Panache's sequence table, which deadlocks SQLite under a pool.
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(nullable = false, unique = true)
    public String name;

    @Convert(converter = RoleConverter.class)
    @Column(nullable = false)
    public Role role;

    @Column(name = "created_at", nullable = false)
    public Instant createdAt;

    @Column(name = "created_by", nullable = false)
    public String createdBy;

    @Column(name = "disabled_at")
    public Instant disabledAt;

    @Column(name = "disabled_by")
    public String disabledBy;

    @Column(name = "disabled_reason")
    public String disabledReason;

    public boolean enabled() {
        return disabledAt == null;
    }
}
