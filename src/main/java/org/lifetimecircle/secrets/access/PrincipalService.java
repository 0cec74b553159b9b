package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.web.ApiException;

/** Creates and lists principals. */
@ApplicationScoped
@Transactional(Transactional.TxType.REQUIRED)
public class PrincipalService {

    private final PrincipalRepository principals;
    private final Clock clock;

    PrincipalService(PrincipalRepository principals, Clock clock) {
        this.principals = principals;
        this.clock = clock;
    }

    /** Creates a principal; a name that exists or existed (disabled) is a conflict. */
    public PrincipalEntity create(PrincipalName name, Role role, String actor) {
        if (principals.findByName(name.value()).isPresent()) {
            throw ApiException.conflict("principal '" + name.value() + "' exists or existed; names are not reused");
        }
        PrincipalEntity p = new PrincipalEntity();
        p.name = name.value();
        p.role = role;
        p.createdAt = Clocks.now(clock);
        p.createdBy = actor;
        principals.persist(p);
        return p;
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public List<PrincipalEntity> list() {
        return principals.list("order by name");
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public Optional<PrincipalEntity> find(String name) {
        return principals.findByName(name);
    }

    @Transactional(Transactional.TxType.SUPPORTS)
    public long count() {
        return principals.count();
    }
}
