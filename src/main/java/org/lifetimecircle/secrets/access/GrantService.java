package org.lifetimecircle.secrets.access;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.access.GrantDtos.CreateGrant;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Role;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.config.LtcSecretsConfig;
import org.lifetimecircle.secrets.crypto.Randoms;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.GrantsPolicy;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Creates, revokes and lists access grants. Every rule that can refuse a grant (the grantee's role
 * ceiling, self-grants, lifetimes) is checked here, inside the audited unit, so each refusal is a
 * DENIED or FAILED event naming the principal and environment it concerned.
 */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class GrantService {

    static final Pattern GRANT_ID = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern SAFE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final GrantRepository grants;
    private final PrincipalRepository principals;
    private final EnvironmentRegistry environments;
    private final AuditService audit;
    private final LtcSecretsConfig config;
    private final Clock clock;

    GrantService(GrantRepository grants, PrincipalRepository principals, EnvironmentRegistry environments,
                 AuditService audit, LtcSecretsConfig config, Clock clock) {
        this.grants = grants;
        this.principals = principals;
        this.environments = environments;
        this.audit = audit;
        this.config = config;
        this.clock = clock;
    }

    /** Grants {@code body.permission} on {@code body.environment} to {@code body.principal}, audited. */
    @Transactional(Transactional.TxType.NEVER)
    public GrantEntity create(CreateGrant body, Caller caller) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {principal, environment, permission, ttl | expiresAt, reason} is required");
        }
        return audit.mutate("grant.create", safe(body.environment()), safe(body.principal()),
                () -> insert(body, caller),
                g -> {
                    Map<String, Object> details = new LinkedHashMap<>();
                    details.put("grantId", g.id);
                    details.put("permission", g.permission.id());
                    details.put("expiresAt", g.expiresAt.toString());
                    details.put("reason", g.reason);
                    return details;
                });
    }

    private GrantEntity insert(CreateGrant body, Caller caller) {
        Instant now = Clocks.now(clock);
        GrantPlan plan = check(body, caller, now);
        return persist(plan, caller.name(), now, null, null);
    }

    /**
     * A grant that every rule allows, not yet made: the grantee, environment, permission, lifetime and
     * reason. Two-person approval keeps it as a request and {@link #persist}s it on approval.
     */
    public record GrantPlan(PrincipalEntity grantee, EnvironmentPolicy environment, Permission permission,
                            Duration lifetime, String reason) {
    }

    /**
     * Every rule a grant must pass, in the order the caller can act on: body fields, environment,
     * permission, reason, lifetime, grantee (exists, enabled, not the caller unless an admin, role
     * ceiling). Call inside the writer unit. {@code body} is a POST /grants body.
     */
    // Called inside writer units, where a refusal must fail this unit alone: without dontRollbackOn the
    // interceptor of this SUPPORTS bean would mark the writer's whole transaction rollback-only.
    @Transactional(value = Transactional.TxType.SUPPORTS, dontRollbackOn = ApiException.class)
    public GrantPlan check(CreateGrant body, Caller caller, Instant now) {
        PrincipalName name = new PrincipalName(required("principal", body.principal()));
        EnvironmentPolicy environment = environments.require(required("environment", body.environment()));
        Permission permission = Permission.fromId(required("permission", body.permission()))
                .orElseThrow(() -> ApiException.invalid("field 'permission' must be one of secret:rotate, env-file:read, "
                        + "env-file:write"));
        if (!permission.environmentScoped()) {
            throw ApiException.policyViolation("permission '" + permission.id()
                    + "' is not environment-scoped: the role alone gives it, a grant cannot");
        }
        Reason reason = Reason.of("reason", body.reason());
        Instant expiresAt = expiry(body, now, environment);

        PrincipalEntity grantee = principals.findByName(name.value())
                .orElseThrow(() -> ApiException.notFound("no principal '" + name.value() + "'"));
        if (!grantee.enabled()) {
            throw ApiException.conflict("principal '" + name.value() + "' is disabled");
        }
        if (grantee.id == caller.principalId() && caller.role() != Role.ADMIN) {
            throw ApiException.forbidden("only an admin may grant to itself; ask another security engineer");
        }
        if (!permission.allows(grantee.role)) {
            throw ApiException.policyViolation("role '" + grantee.role.id() + "' of principal '" + name.value()
                    + "' cannot hold permission '" + permission.id() + "'");
        }
        return new GrantPlan(grantee, environment, permission, Duration.between(now, expiresAt), reason.value());
    }

    /**
     * Makes the grant of a checked plan, in force from {@code now} for the plan's lifetime; call inside
     * the writer unit. {@code approvedBy}/{@code approvalId}: the second person of a two-person approval.
     */
    public GrantEntity persist(GrantPlan plan, String grantedBy, Instant now, String approvedBy, String approvalId) {
        GrantEntity g = new GrantEntity();
        g.id = newId();
        g.principal = plan.grantee();
        g.environment = plan.environment().environment();
        g.permission = plan.permission();
        g.grantedBy = grantedBy;
        g.grantedAt = now;
        g.expiresAt = Clocks.truncate(now.plus(plan.lifetime()));
        g.reason = plan.reason();
        g.approvedBy = approvedBy;
        g.approvalId = approvalId;
        grants.persist(g);
        return g;
    }

    /** Until when: exactly one of ttl and expiresAt, at least a second away, at most the applicable maximum. */
    private Instant expiry(CreateGrant body, Instant now, EnvironmentPolicy environment) {
        if ((body.ttl() == null) == (body.expiresAt() == null)) {
            throw ApiException.invalid("give exactly one of 'ttl' (such as PT8H) and 'expiresAt' (RFC 3339)");
        }
        Instant expiresAt;
        if (body.ttl() != null) {
            Duration ttl;
            try {
                ttl = Duration.parse(body.ttl());
            } catch (DateTimeParseException e) {
                throw ApiException.invalid("field 'ttl' must be an ISO-8601 duration such as PT8H or P7D");
            }
            if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
                throw ApiException.invalid("field 'ttl' must be at least PT1S");
            }
            expiresAt = Clocks.truncate(now.plus(maxOf(ttl)));
        } else {
            try {
                expiresAt = Clocks.truncate(Instant.parse(body.expiresAt()));
            } catch (DateTimeParseException e) {
                throw ApiException.invalid("field 'expiresAt' must be an RFC 3339 time such as 2026-03-06T17:00:00Z");
            }
            if (Duration.between(now, expiresAt).compareTo(Duration.ofSeconds(1)) < 0) {
                throw ApiException.invalid("field 'expiresAt' must be at least one second in the future");
            }
        }
        Duration max = maxTtl(environment);
        if (Duration.between(now, expiresAt).compareTo(max) > 0) {
            throw ApiException.policyViolation("the grant's lifetime exceeds the maximum of " + max + " for environment '"
                    + environment.environment() + "'");
        }
        return expiresAt;
    }

    // A ttl beyond what Instant can hold is simply "too long"; cap it so the check above says so.
    private static Duration maxOf(Duration ttl) {
        Duration century = Duration.ofDays(36_500);
        return ttl.compareTo(century) > 0 ? century : ttl;
    }

    /** The longest grant on an environment: the service-wide maximum, lowered by the policy's {@code grants.maxTtl}. */
    public Duration maxTtl(EnvironmentPolicy environment) {
        Duration global = config.grants().maxTtl();
        return environment.grants().flatMap(GrantsPolicy::maxTtl).filter(d -> d.compareTo(global) < 0).orElse(global);
    }

    /** Revokes a grant, audited; it is refused from the next request on. Revoking twice changes nothing. */
    @Transactional(Transactional.TxType.NEVER)
    public void revoke(String id, String reasonText, Caller caller) {
        if (id == null || !GRANT_ID.matcher(id).matches()) {
            throw ApiException.invalid("grant id must be 16 hex characters");
        }
        Reason reason = Reason.of("reason", reasonText);
        String environment = grants.findByIdOptional(id).map(g -> g.environment).orElse(null);
        audit.mutate("grant.revoke", environment, id, () -> {
            GrantEntity g = grants.findWithPrincipal(id).orElseThrow(() -> ApiException.notFound("no grant '" + id + "'"));
            boolean already = g.revokedAt != null;
            if (!already) {
                g.revokedAt = Clocks.now(clock);
                g.revokedBy = caller.name();
                g.revokeReason = reason.value();
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("principal", g.principal.name);
            details.put("permission", g.permission.id());
            details.put("alreadyRevoked", already);
            details.put("reason", reason.value());
            return details;
        }, details -> details);
    }

    /**
     * Revokes every active grant on an environment except those of {@code keep} (the emergency's
     * caller, who must keep working); call inside the writer unit that audits it. Returns how many.
     */
    public int revokeAllOn(String environment, String keep, String actor, String reason, Instant now) {
        List<GrantEntity> active = grants.list("environment = ?1 and revokedAt is null and expiresAt > ?2 "
                + "and principal.name <> ?3", environment, now, keep);
        for (GrantEntity g : active) {
            g.revokedAt = now;
            g.revokedBy = actor;
            g.revokeReason = reason;
        }
        return active.size();
    }

    /**
     * Revokes every grant on an environment in force at {@code now} except those of the principal
     * with id {@code keepPrincipalId} (null: nobody keeps access, as when the scheduler starts an
     * emergency); call inside the writer unit that audits it. Matched by id, not by name. Returns how many.
     */
    public int revokeAllOnExcept(String environment, Long keepPrincipalId, String actor, String reason, Instant now) {
        List<GrantEntity> active = keepPrincipalId == null
                ? grants.list("environment = ?1 and revokedAt is null and expiresAt > ?2", environment, now)
                : grants.list("environment = ?1 and revokedAt is null and expiresAt > ?2 and principal.id <> ?3",
                        environment, now, keepPrincipalId);
        for (GrantEntity g : active) {
            g.revokedAt = now;
            g.revokedBy = actor;
            g.revokeReason = reason;
        }
        return active.size();
    }

    /** How many grants on an environment were revoked with exactly this reason (an emergency's, say). */
    public long revokedWithReason(String environment, String reason) {
        return grants.count("environment = ?1 and revokedAt is not null and revokeReason = ?2", environment, reason);
    }

    /**
     * Whether the principal holds a grant of {@code permission} on {@code environment} in force at
     * {@code now}: for rules that need a second permission besides the endpoint's own (an import
     * needs env-file:read as well as secret:rotate).
     */
    public boolean hasActiveGrant(long principalId, String environment, Permission permission, Instant now) {
        return grants.count("principal.id = ?1 and environment = ?2 and permission = ?3 and revokedAt is null "
                + "and expiresAt > ?4", principalId, environment, permission, now) > 0;
    }

    /**
     * Revokes every grant of a principal that is in force at {@code now} (a principal being disabled);
     * call inside the writer unit that audits it. Expired grants keep their expiry as their end.
     * Returns the grants revoked.
     */
    List<GrantEntity> revokeAllOf(PrincipalEntity principal, String actor, String reason, Instant now) {
        List<GrantEntity> active = grants.list("principal = ?1 and revokedAt is null and expiresAt > ?2 "
                + "order by grantedAt, id", principal, now);
        for (GrantEntity g : active) {
            g.revokedAt = now;
            g.revokedBy = actor;
            g.revokeReason = reason;
        }
        return active;
    }

    public Optional<GrantEntity> find(String id) {
        if (id == null || !GRANT_ID.matcher(id).matches()) {
            throw ApiException.invalid("grant id must be 16 hex characters");
        }
        return grants.findWithPrincipal(id);
    }

    public List<GrantEntity> list(Optional<String> principal, Optional<String> environment, Optional<Boolean> active,
                                  int limit) {
        principal.ifPresent(PrincipalName::new);
        environment.ifPresent(e -> {
            if (!EnvironmentRegistry.validName(e)) {
                throw ApiException.invalid("query parameter 'environment' must match [a-z0-9-]{1,32}");
            }
        });
        return grants.search(principal, environment, active, clock.instant(), limit);
    }

    private static String required(String field, String value) {
        if (value == null || value.isBlank()) {
            throw ApiException.invalid("field '" + field + "' is required");
        }
        return value;
    }

    /** Request values go into the event only when they are plain names. */
    private static String safe(String value) {
        return value != null && SAFE_NAME.matcher(value).matches() ? value : null;
    }

    private static String newId() {
        byte[] id = new byte[8];
        Randoms.strong().nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
