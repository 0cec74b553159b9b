package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** Principals by name. */
@ApplicationScoped
public class PrincipalRepository implements PanacheRepositoryBase<PrincipalEntity, Long> {

    public Optional<PrincipalEntity> findByName(String name) {
        return find("name", name).firstResultOptional();
    }
}
