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

    public List<TokenEntity> of(PrincipalEntity principal) {
        return list("principal = ?1 order by createdAt desc", principal);
    }
}
