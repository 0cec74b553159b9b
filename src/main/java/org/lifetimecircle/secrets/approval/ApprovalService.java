package org.lifetimecircle.secrets.approval;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.lifetimecircle.secrets.access.GrantDtos.CreateGrant;
import org.lifetimecircle.secrets.access.GrantEntity;
import org.lifetimecircle.secrets.access.GrantService;
import org.lifetimecircle.secrets.access.GrantService.GrantPlan;
import org.lifetimecircle.secrets.access.PrincipalEntity;
import org.lifetimecircle.secrets.access.PrincipalRepository;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.NothingToDo;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.Randoms;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.db.ReadTransaction;
import org.lifetimecircle.secrets.policy.ApprovalsPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.rotation.RotationEntity;
import org.lifetimecircle.secrets.rotation.RotationKind;
import org.lifetimecircle.secrets.rotation.RotationService;
import org.lifetimecircle.secrets.secret.SecretStore;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Requests, approvals, denials and lapses. Each is one unit of the single audit writer with its event,
 * so everything a decision depends on (the request still PENDING, its policy unchanged, the people still
 * enabled, the approver's grant) is read in the same serialized commit that acts on it: an approval racing
 * a denial, a disable or a revocation either sees it and is refused, or happened first.
 */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class ApprovalService {

    static final Pattern APPROVAL_ID = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern SAFE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    /** Enough for any real backlog in one scheduler run; the rest follows in the next. */
    private static final int BATCH = 500;

    private final ApprovalRepository approvals;
    private final GrantService grants;
    private final RotationService rotations;
    private final PrincipalRepository principals;
    private final EnvironmentRegistry environments;
    private final SecretStore store;
    private final AuditService audit;
    private final AuditWriter writer;
    private final Clock clock;

    ApprovalService(ApprovalRepository approvals, GrantService grants, RotationService rotations,
                    PrincipalRepository principals, EnvironmentRegistry environments, SecretStore store,
                    AuditService audit, AuditWriter writer, Clock clock) {
        this.approvals = approvals;
        this.grants = grants;
        this.rotations = rotations;
        this.principals = principals;
        this.environments = environments;
        this.store = store;
        this.audit = audit;
        this.writer = writer;
        this.clock = clock;
    }

    // ---------------------------------------------------------------------------------------------
    // Requests

    /**
     * A grant on an environment whose policy asks for approval: every rule of a direct grant is checked
     * now (a request that could never be granted is refused at once), then it waits. Its lifetime counts
     * from the approval: a ttl as given, an {@code expiresAt} as the time from now until then.
     */
    @Transactional(Transactional.TxType.NEVER)
    public ApprovalEntity requestGrant(CreateGrant body, EnvironmentPolicy policy, Caller caller) {
        return audit.mutate("approval.request", policy.environment(), safe(body.principal()), () -> {
            Instant now = Clocks.now(clock);
            GrantPlan plan = grants.check(body, caller, now);
            ApprovalEntity a = newRequest(ApprovalKind.GRANT, plan.environment(), caller, plan.reason(), now);
            a.grantee = plan.grantee();
            a.permission = plan.permission();
            a.ttlSeconds = Math.max(1, plan.lifetime().toSeconds());
            approvals.persist(a);
            return a;
        }, ApprovalService::details);
    }

    /**
     * A MANUAL, ROLLBACK or IMPORT rotation on an environment whose policy asks for approval. What can be
     * checked now is (a ROLLBACK without a PREVIOUS, an IMPORT without the requester's env-file:read grant);
     * whether another rotation runs is checked when it is approved, since that is when it would start.
     * An IMPORT's value is sealed under the master key, bound to this request, until it is decided.
     */
    @Transactional(Transactional.TxType.NEVER)
    public ApprovalEntity requestRotation(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind,
                                          Reason reason, Optional<SecretValue> imported, Caller caller) {
        return audit.mutate("approval.request", policy.environment(), secret.name(), () -> {
            if (kind == RotationKind.IMPORT) {
                rotations.requireReadGrantForImport(caller.principalId(), policy.environment());
            }
            if (kind == RotationKind.ROLLBACK && !rotations.hasPrevious(policy.environment(), secret.name())) {
                throw ApiException.conflict(policy.environment() + "/" + secret.name()
                        + " has no PREVIOUS version to roll back to");
            }
            Instant now = Clocks.now(clock);
            ApprovalEntity a = newRequest(ApprovalKind.ROTATION, policy, caller, reason.value(), now);
            a.secret = secret.name();
            a.rotationKind = kind;
            imported.ifPresent(value -> {
                a.importCiphertext = store.sealAwaitingApproval(a.environment, a.secret, a.id, value);
                a.importFingerprint = store.fingerprint(value);
            });
            approvals.persist(a);
            return a;
        }, ApprovalService::details);
    }

    private ApprovalEntity newRequest(ApprovalKind kind, EnvironmentPolicy policy, Caller caller, String reason,
                                      Instant now) {
        Duration expireAfter = policy.approvals().map(ApprovalsPolicy::expireAfter)
                .orElse(ApprovalsPolicy.DEFAULT_EXPIRE_AFTER);
        ApprovalEntity a = new ApprovalEntity();
        a.id = newId();
        a.kind = kind;
        a.environment = policy.environment();
        a.status = ApprovalStatus.PENDING;
        a.requestedBy = principals.findById(caller.principalId());
        a.requestedAt = now;
        a.expiresAt = Clocks.truncate(now.plus(expireAfter));
        a.reason = reason;
        a.policyFingerprint = policy.fingerprint();
        return a;
    }

    // ---------------------------------------------------------------------------------------------
    // Decisions

    /** The outcome of an approval: the request, and the job to start once its commit is durable. */
    private record Approved(ApprovalEntity approval, String rotationToStart) {
    }

    /**
     * Approves a PENDING request: the grant is made, or the rotation journaled, in the same commit, as if
     * requested now, naming both people. 403 when the caller may not approve it, 409 when it cannot be
     * approved any more (the detail says why).
     */
    @Transactional(Transactional.TxType.NEVER)
    public ApprovalEntity approve(String id, String reasonText, Caller caller, String requestId) {
        requireId(id);
        Reason reason = Reason.of("reason", reasonText);
        Approved done = audit.mutate("approval.approve", environmentOf(id), id,
                () -> decideApprove(id, reason, caller), a -> details(a.approval()));
        if (done.rotationToStart() != null) {
            rotations.start(done.rotationToStart(), requestId);
        }
        return done.approval();
    }

    private Approved decideApprove(String id, Reason reason, Caller caller) {
        Instant now = Clocks.now(clock);
        ApprovalEntity a = pending(id, now);
        if (a.requestedBy.id == caller.principalId()) {
            throw ApiException.forbidden("nobody approves its own request: another person must approve " + id);
        }
        if (a.kind == ApprovalKind.GRANT && a.grantee.id == caller.principalId()) {
            throw ApiException.forbidden("the grantee cannot approve a grant to itself: another person must approve "
                    + id);
        }
        requireApproverRole(a, caller, now);
        EnvironmentPolicy policy = unchangedPolicy(a);
        if (!a.requestedBy.enabled()) {
            throw ApiException.conflict("the requester '" + a.requestedBy.name + "' was disabled since the request");
        }
        String rotationToStart = null;
        if (a.kind == ApprovalKind.GRANT) {
            if (!a.grantee.enabled()) {
                throw ApiException.conflict("the grantee '" + a.grantee.name + "' was disabled since the request");
            }
            GrantPlan plan = new GrantPlan(a.grantee, policy, a.permission, Duration.ofSeconds(a.ttlSeconds), a.reason);
            GrantEntity g = grants.persist(plan, a.requestedBy.name, now, caller.name(), a.id);
            a.grantId = g.id;
        } else {
            SecretPolicy secret = policy.secrets().get(a.secret);
            Optional<SecretValue> value = Optional.empty();
            if (a.rotationKind == RotationKind.IMPORT) {
                if (!grants.hasActiveGrant(a.requestedBy.id, a.environment, Permission.ENV_FILE_READ, now)) {
                    throw ApiException.conflict("the requester '" + a.requestedBy.name + "' no longer holds an "
                            + "env-file:read grant on '" + a.environment + "', which an import needs");
                }
                value = Optional.of(store.openAwaitingApproval(a.environment, a.secret, a.id, a.importCiphertext));
            }
            try {
                RotationEntity r = rotations.stageApproved(policy, secret, a.rotationKind, new Reason(a.reason), value,
                        a.requestedBy.name, caller.name(), a.id);
                a.rotationId = r.id;
                rotationToStart = r.id;
            } finally {
                value.ifPresent(SecretValue::close);
            }
            a.importCiphertext = null;
        }
        decide(a, ApprovalStatus.APPROVED, caller, reason, now);
        return new Approved(a, rotationToStart);
    }

    /**
     * Denies a PENDING request; the requester may deny (withdraw) its own. Anyone else needs a role that
     * could approve it. Nothing of the request takes effect; an IMPORT's sealed value is erased.
     */
    @Transactional(Transactional.TxType.NEVER)
    public ApprovalEntity deny(String id, String reasonText, Caller caller) {
        requireId(id);
        Reason reason = Reason.of("reason", reasonText);
        return audit.mutate("approval.deny", environmentOf(id), id, () -> {
            Instant now = Clocks.now(clock);
            ApprovalEntity a = pending(id, now);
            if (a.requestedBy.id != caller.principalId()) {
                requireRole(a, caller);
            }
            a.importCiphertext = null;
            decide(a, ApprovalStatus.DENIED, caller, reason, now);
            return a;
        }, ApprovalService::details);
    }

    /**
     * Records every request that lapsed at or before {@code now}: one unit and {@code approval.expire}
     * event each, by the scheduler. A request decided meanwhile records nothing. Returns how many.
     */
    public int expire(Instant now) {
        Instant at = Clocks.truncate(now);
        List<String> due = ReadTransaction.read(() -> approvals.lapsed(at, BATCH));
        int recorded = 0;
        for (String id : due) {
            try {
                ApprovalEntity a = writer.submit(new Unit<>(() -> {
                    ApprovalEntity row = approvals.findById(id);
                    if (row == null || !row.lapsedAt(at)) {
                        throw new NothingToDo();
                    }
                    row.status = ApprovalStatus.EXPIRED;
                    row.decidedAt = at;
                    row.importCiphertext = null;
                    return row;
                }, row -> AuditDraft.by(Actors.SCHEDULER).action("approval.expire").environment(row.environment)
                        .target(row.id).details(details(row)), null));
                if (a != null) {
                    recorded++;
                }
            } catch (NothingToDo e) {
                // decided by someone meanwhile
            }
        }
        return recorded;
    }

    private ApprovalEntity pending(String id, Instant now) {
        ApprovalEntity a = approvals.findByIdOptional(id)
                .orElseThrow(() -> ApiException.notFound("no approval '" + id + "'"));
        if (a.status != ApprovalStatus.PENDING) {
            throw ApiException.conflict("approval " + id + " is already " + a.status
                    + (a.decidedBy == null ? "" : " (by " + a.decidedBy.name + ")"));
        }
        if (a.lapsedAt(now)) {
            throw ApiException.conflict("approval " + id + " lapsed at " + a.expiresAt + "; request it again");
        }
        return a;
    }

    /** The approver's role must have been able to make the request itself. */
    private static void requireRole(ApprovalEntity a, Caller caller) {
        Permission needed = a.kind == ApprovalKind.GRANT ? Permission.GRANT_MANAGE : Permission.SECRET_ROTATE;
        if (!needed.allows(caller.role())) {
            throw ApiException.forbidden("role '" + caller.role().id() + "' cannot decide a " + a.kind
                    + " request: it needs " + needed.id());
        }
        if (a.rotationKind == RotationKind.IMPORT && !Permission.ENV_FILE_READ.allows(caller.role())) {
            throw ApiException.forbidden("role '" + caller.role().id() + "' cannot decide an IMPORT: it chooses "
                    + "the value, so only a role that may read the env file may approve it");
        }
    }

    /** As {@link #requireRole}; a rotation's approver also needs an active secret:rotate grant on the environment. */
    private void requireApproverRole(ApprovalEntity a, Caller caller, Instant now) {
        requireRole(a, caller);
        if (a.kind == ApprovalKind.ROTATION
                && !grants.hasActiveGrant(caller.principalId(), a.environment, Permission.SECRET_ROTATE, now)) {
            throw ApiException.forbidden("approving a rotation needs an active secret:rotate grant on '"
                    + a.environment + "'");
        }
    }

    /** The policy the request was judged under, or 409 when it changed or was removed since. */
    private EnvironmentPolicy unchangedPolicy(ApprovalEntity a) {
        EnvironmentPolicy policy = environments.find(a.environment).orElseThrow(() -> ApiException.conflict(
                "the policy of environment '" + a.environment + "' was removed since the request"));
        if (!policy.fingerprint().equals(a.policyFingerprint)) {
            throw ApiException.conflict("the policy of environment '" + a.environment + "' changed since the "
                    + "request; request it again under the current policy");
        }
        return policy;
    }

    private void decide(ApprovalEntity a, ApprovalStatus status, Caller caller, Reason reason, Instant now) {
        a.status = status;
        a.decidedBy = principals.findById(caller.principalId());
        a.decidedAt = now;
        a.decisionReason = reason.value();
    }

    // ---------------------------------------------------------------------------------------------
    // Reads

    public Optional<ApprovalEntity> find(String id) {
        requireId(id);
        return approvals.findByIdOptional(id);
    }

    public List<ApprovalEntity> list(Optional<ApprovalStatus> status, Optional<String> environment, int limit) {
        environment.ifPresent(e -> {
            if (!EnvironmentRegistry.validName(e)) {
                throw ApiException.invalid("query parameter 'environment' must match [a-z0-9-]{1,32}");
            }
        });
        return approvals.search(status, environment, clock.instant(), limit);
    }

    /** The event details of a request or decision: names, ids, the import's fingerprint; never a value. */
    static Map<String, Object> details(ApprovalEntity a) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("approvalId", a.id);
        d.put("kind", a.kind.name());
        d.put("status", a.status.name());
        d.put("summary", ApprovalViews.summary(a));
        d.put("requestedBy", a.requestedBy.name);
        d.put("expiresAt", a.expiresAt.toString());
        d.put("reason", a.reason);
        if (a.importFingerprint != null) {
            d.put("importFingerprint", a.importFingerprint);
        }
        if (a.decidedBy != null) {
            d.put("decidedBy", a.decidedBy.name);
        }
        if (a.decisionReason != null) {
            d.put("decisionReason", a.decisionReason);
        }
        if (a.grantId != null) {
            d.put("grantId", a.grantId);
        }
        if (a.rotationId != null) {
            d.put("rotationId", a.rotationId);
        }
        return d;
    }

    private String environmentOf(String id) {
        return approvals.findByIdOptional(id).map(a -> a.environment).orElse(null);
    }

    private static void requireId(String id) {
        if (id == null || !APPROVAL_ID.matcher(id).matches()) {
            throw ApiException.invalid("approval id must be 16 hex characters");
        }
    }

    private static String safe(String value) {
        return value != null && SAFE_NAME.matcher(value).matches() ? value : null;
    }

    private static String newId() {
        byte[] id = new byte[8];
        Randoms.strong().nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
