package org.lifetimecircle.secrets.access;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/** API tokens by id and by principal. */
@ApplicationScoped
public class TokenRepository implements PanacheRepositoryBase<TokenEntity, String> {

    public List<TokenEntity> activeOf(PrincipalEntity principal, Instant now) {
        return list("principal = ?1 and revokedAt is null and (expiresAt is null or expiresAt > ?2)", principal, now);
    }

    /** Newest first, at most {@code limit}. */
    public List<TokenEntity> of(PrincipalEntity principal, int limit) {
        return find("principal = ?1 order by createdAt desc, id", principal).page(0, limit).list();
    }
}
