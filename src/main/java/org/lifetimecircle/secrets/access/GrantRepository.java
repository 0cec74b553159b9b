package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Parameters;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Grants by id and filtered for listings; the per-request grant check is {@link AccessLookups#activeGrantId}. */
@ApplicationScoped
public class GrantRepository implements PanacheRepositoryBase<GrantEntity, String> {

    public Optional<GrantEntity> findWithPrincipal(String id) {
        return find("from GrantEntity g join fetch g.principal where g.id = ?1", id).firstResultOptional();
    }

    /** Newest first; each filter is optional. {@code active} compares with {@code now}. */
    public List<GrantEntity> search(Optional<String> principal, Optional<String> environment, Optional<Boolean> active,
                                    Instant now, int limit) {
        List<String> where = new ArrayList<>();
        Parameters params = new Parameters();
        principal.ifPresent(p -> {
            where.add("g.principal.name = :principal");
            params.and("principal", p);
        });
        environment.ifPresent(e -> {
            where.add("g.environment = :environment");
            params.and("environment", e);
        });
        active.ifPresent(a -> {
            where.add(a ? "(g.revokedAt is null and g.expiresAt > :now)" : "(g.revokedAt is not null or g.expiresAt <= :now)");
            params.and("now", now);
        });
        String query = "from GrantEntity g join fetch g.principal"
                + (where.isEmpty() ? "" : " where " + String.join(" and ", where))
                + " order by g.grantedAt desc, g.id";
        return find(query, params).page(0, limit).list();
    }

    /** Grants of an environment that were in force at some moment of {@code [from, to)}. */
    public List<GrantEntity> inForceDuring(String environment, Instant from, Instant to) {
        return find("from GrantEntity g join fetch g.principal where g.environment = :e and g.grantedAt < :to "
                        + "and g.expiresAt > :from and (g.revokedAt is null or g.revokedAt > :from) "
                        + "order by g.grantedAt, g.id",
                Parameters.with("e", environment).and("from", from).and("to", to)).list();
    }
}
