package org.lifetimecircle.secrets.secret;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;

/** Secret versions by environment, secret and state. */
@ApplicationScoped
public class SecretVersionRepository implements PanacheRepositoryBase<SecretVersionEntity, Long> {

    public Optional<SecretVersionEntity> inState(String environment, String secret, VersionState state) {
        return find("environment = ?1 and secret = ?2 and state = ?3", environment, secret, state).firstResultOptional();
    }

    /**
     * The environment's CURRENT and PREVIOUS versions, from one statement (a rotation that commits
     * meanwhile is seen entirely or not at all), as entities of the current transaction.
     */
    public List<SecretVersionEntity> readable(String environment) {
        // Two scalar parameters, not "in ?2": a list parameter keeps Hibernate from caching the SQL translation.
        return getEntityManager().createQuery("from SecretVersionEntity v where v.environment = ?1 "
                        + "and (v.state = ?2 or v.state = ?3)", SecretVersionEntity.class)
                .setParameter(1, environment)
                .setParameter(2, VersionState.CURRENT)
                .setParameter(3, VersionState.PREVIOUS)
                .getResultList();
    }

    public Optional<SecretVersionEntity> version(String environment, String secret, long version) {
        return find("environment = ?1 and secret = ?2 and version = ?3", environment, secret, version)
                .firstResultOptional();
    }

    /** The highest version number used so far (0 if none); new versions take the next one. */
    public long maxVersion(String environment, String secret) {
        Long max = getEntityManager().createQuery("select max(v.version) from SecretVersionEntity v "
                + "where v.environment = ?1 and v.secret = ?2", Long.class)
                .setParameter(1, environment).setParameter(2, secret).getSingleResult();
        return max == null ? 0 : max;
    }

    /** Newest first. */
    public List<SecretVersionEntity> of(String environment, String secret, int limit) {
        return find("environment = ?1 and secret = ?2 order by version desc", environment, secret)
                .page(0, limit).list();
    }

    public boolean any(String environment, String secret) {
        return count("environment = ?1 and secret = ?2", environment, secret) > 0;
    }
}
