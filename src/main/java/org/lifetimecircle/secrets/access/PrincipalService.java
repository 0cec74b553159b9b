package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.web.ApiException;

/** Creates and lists principals. */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class PrincipalService {

    private final PrincipalRepository principals;
    private final AuditService audit;
    private final Clock clock;

    PrincipalService(PrincipalRepository principals, AuditService audit, Clock clock) {
        this.principals = principals;
        this.audit = audit;
        this.clock = clock;
    }

    /** Creates a principal, audited; a name that exists or existed (disabled) is a conflict. */
    @Transactional(Transactional.TxType.NEVER)
    public PrincipalEntity create(PrincipalName name, Role role, String actor) {
        return audit.mutate("principal.create", null, name.value(), () -> insert(name, role, actor),
                p -> Map.of("role", p.role.id()));
    }

    private PrincipalEntity insert(PrincipalName name, Role role, String actor) {
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

    public List<PrincipalEntity> list() {
        return principals.list("order by name");
    }

    public Optional<PrincipalEntity> find(String name) {
        return principals.findByName(name);
    }

    public long count() {
        return principals.count();
    }
}
