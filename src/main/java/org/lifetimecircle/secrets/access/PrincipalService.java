package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/** Creates, lists and disables principals. */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class PrincipalService {

    /**
     * Names the service acts or appears under in the audit trail ({@code system}, {@code scheduler}),
     * the name of an unauthenticated caller, and the bootstrap admin: a principal called so would
     * look like the service. Names are lower case only, so no case variant can exist either.
     */
    static final Set<String> RESERVED = Stream.concat(Actors.ALL.stream(), Stream.of(BootstrapAdmin.NAME))
            .collect(Collectors.toUnmodifiableSet());

    private final PrincipalRepository principals;
    private final TokenService tokens;
    private final GrantService grants;
    private final AuditService audit;
    private final Clock clock;

    PrincipalService(PrincipalRepository principals, TokenService tokens, GrantService grants, AuditService audit,
                     Clock clock) {
        this.principals = principals;
        this.tokens = tokens;
        this.grants = grants;
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
        if (RESERVED.contains(name.value())) {
            throw ApiException.conflict("principal name '" + name.value() + "' is reserved for the service itself");
        }
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

    /** What disabling a principal did; {@code already} when it was disabled before and nothing changed. */
    record Disabled(PrincipalEntity principal, boolean already, List<String> tokenIds, List<GrantEntity> grants) {
    }

    /**
     * Disables a principal for good, in one audited unit: its row is kept (and its name stays taken),
     * every token and grant still in force is revoked with the reason. Disabling a disabled principal
     * changes nothing. Refused (409) for the caller itself and for the last enabled admin: either would
     * leave nobody, or not the person asking, able to manage principals.
     */
    @Transactional(Transactional.TxType.NEVER)
    public Disabled disable(PrincipalName name, Reason reason, Caller caller) {
        return audit.mutate("principal.disable", null, name.value(), () -> disableNow(name, reason, caller),
                d -> disableDetails(d, reason));
    }

    private Disabled disableNow(PrincipalName name, Reason reason, Caller caller) {
        PrincipalEntity p = principals.findByName(name.value())
                .orElseThrow(() -> ApiException.notFound("no principal '" + name.value() + "'"));
        if (!p.enabled()) {
            return new Disabled(p, true, List.of(), List.of());
        }
        if (p.id == caller.principalId()) {
            throw ApiException.conflict("principal '" + name.value() + "' is the caller: nobody disables itself; "
                    + "another admin must do it");
        }
        // Checked inside the writer, so two admins disabling each other at once cannot both succeed.
        if (p.role == Role.ADMIN && principals.count("role = ?1 and disabledAt is null and id <> ?2", Role.ADMIN, p.id) == 0) {
            throw ApiException.conflict("principal '" + name.value() + "' is the last enabled admin; create another "
                    + "admin first, or nobody could manage principals any more");
        }
        Instant now = Clocks.now(clock);
        p.disabledAt = now;
        p.disabledBy = caller.name();
        p.disabledReason = reason.value();
        return new Disabled(p, false, tokens.revokeAll(p, caller.name(), now),
                grants.revokeAllOf(p, caller.name(), reason.value(), now));
    }

    private static Map<String, Object> disableDetails(Disabled d, Reason reason) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("role", d.principal().role.id());
        details.put("reason", reason.value());
        details.put("alreadyDisabled", d.already());
        details.put("revokedTokens", d.tokenIds());
        details.put("revokedGrants", d.grants().stream().map(g -> Map.of("id", g.id, "environment", g.environment,
                "permission", g.permission.id())).toList());
        return details;
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
