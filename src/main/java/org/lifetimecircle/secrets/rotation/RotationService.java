package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lifetimecircle.secrets.access.GrantService;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.Randoms;
import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.SecretStore;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Accepts rotation requests: in one audited commit it checks that no other rotation of the secret
 * is pending or running (the single writer makes check-then-insert race-free), stages the new value
 * as a PENDING version (generated, or imported), and journals the rotation; the engine takes it
 * from there in the background.
 */
@ApplicationScoped
@Transactional(Transactional.TxType.SUPPORTS)
public class RotationService {

    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final SecretStore store;
    private final AuditService audit;
    private final AuditWriter writer;
    private final RotationEngine engine;
    private final GrantService grants;
    private final Clock clock;
    // After a restore: no rotation (it would write the env file) until an admin releases the hold.
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    RotationService(RotationRepository rotations, SecretVersionRepository versions, SecretStore store,
                    AuditService audit, AuditWriter writer, RotationEngine engine, GrantService grants, Clock clock) {
        this.writer = writer;
        this.grants = grants;
        this.rotations = rotations;
        this.versions = versions;
        this.store = store;
        this.audit = audit;
        this.engine = engine;
        this.clock = clock;
    }

    /**
     * Journals a MANUAL, SCHEDULED, IMPORT or ROLLBACK rotation for {@code caller} and starts it.
     * {@code imported} is the value of an IMPORT (already checked against the policy), closed by the caller.
     */
    @Transactional(Transactional.TxType.NEVER)
    public RotationEntity request(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind, Reason reason,
                                  Optional<SecretValue> imported, Caller caller, String requestId) {
        RotationEntity r = audit.mutate("rotation.request", policy.environment(), secret.name(),
                () -> {
                    if (kind == RotationKind.IMPORT) {
                        // Checked again in the commit: a grant revoked since the request was let in counts.
                        requireReadGrantForImport(caller.principalId(), policy.environment());
                    }
                    return stage(policy, secret, kind, reason, imported, caller.name());
                }, RotationService::requestDetails);
        engine.schedule(r.id, requestId);
        return r;
    }

    /**
     * Journals and starts a rotation the service decided on itself (the scheduler's SCHEDULED
     * rotations): the same commit as {@link #request}, audited with {@code actor} instead of a caller.
     * A refusal (another rotation running, say) is recorded as a FAILED event and thrown.
     */
    @Transactional(Transactional.TxType.NEVER)
    public RotationEntity requestAs(String actor, EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind,
                                    Reason reason) {
        AuditDraft base = AuditDraft.by(actor).action("rotation.request").environment(policy.environment())
                .target(secret.name());
        RotationEntity r = writer.submit(new Unit<>(() -> stage(policy, secret, kind, reason, Optional.empty(), actor),
                row -> base.withOutcome(Outcome.SUCCESS, requestDetails(row)),
                e -> base.withOutcome(Outcome.FAILED, AuditService.failureDetails(e))));
        engine.schedule(r.id, null);
        return r;
    }

    /**
     * An import chooses the value, and so lets the caller know it: only someone who may read the env
     * file may do that. secret:rotate alone does not suffice; a security engineer, whose role ceiling
     * deliberately excludes env-file:read, must not learn the key by picking it (403).
     */
    // Called inside writer units, where a refusal must fail this unit alone: without dontRollbackOn the
    // interceptor of this SUPPORTS bean would mark the writer's whole transaction rollback-only.
    @Transactional(value = Transactional.TxType.SUPPORTS, dontRollbackOn = ApiException.class)
    public void requireReadGrantForImport(long principalId, String environment) {
        if (!grants.hasActiveGrant(principalId, environment, Permission.ENV_FILE_READ, Clocks.now(clock))) {
            throw ApiException.forbidden("an import chooses the secret's value: it needs an active env-file:read "
                    + "grant on environment '" + environment + "' as well as secret:rotate");
        }
    }

    /**
     * Journals a rotation a second person approved, inside the approval's writer unit: the same checks and
     * staging as {@link #request}, requested by {@code requester}, approved by {@code approver}. The caller
     * starts its job with {@link #start} once the unit has committed.
     */
    // Called inside writer units, where a refusal must fail this unit alone: without dontRollbackOn the
    // interceptor of this SUPPORTS bean would mark the writer's whole transaction rollback-only.
    @Transactional(value = Transactional.TxType.SUPPORTS, dontRollbackOn = ApiException.class)
    public RotationEntity stageApproved(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind,
                                        Reason reason, Optional<SecretValue> imported, String requester,
                                        String approver, String approvalId) {
        RotationEntity r = stage(policy, secret, kind, reason, imported, requester);
        r.approvedBy = approver;
        r.approvalId = approvalId;
        return r;
    }

    /** Starts the job of a rotation journaled by {@link #stageApproved}. */
    public void start(String rotationId, String requestId) {
        engine.schedule(rotationId, requestId);
    }

    /** Whether a secret has a PREVIOUS version a ROLLBACK could bring back. */
    public boolean hasPrevious(String environment, String secret) {
        return versions.inState(environment, secret, VersionState.PREVIOUS).isPresent();
    }

    static Map<String, Object> requestDetails(RotationEntity row) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("rotationId", row.id);
        d.put("kind", row.kind.name());
        d.put("fromVersion", row.fromVersion);
        d.put("toVersion", row.toVersion);
        d.put("reason", row.reason);
        if (row.approvalId != null) {
            d.put("approvalId", row.approvalId);
            d.put("approvedBy", row.approvedBy);
        }
        return d;
    }

    private RotationEntity stage(EnvironmentPolicy policy, SecretPolicy secret, RotationKind kind, Reason reason,
                                 Optional<SecretValue> imported, String actor) {
        String env = policy.environment();
        hold.requireReleased();
        rotations.activeIn(env).stream().filter(a -> a.kind == RotationKind.EMERGENCY).findFirst().ifPresent(e -> {
            throw ApiException.conflict("emergency rotation " + e.id + " of " + env + " is " + e.status
                    + "; no other rotation until it ends");
        });
        rotations.active(env, secret.name()).ifPresent(active -> {
            throw ApiException.conflict("rotation " + active.id + " of " + env + "/" + secret.name()
                    + " is " + active.status + "; one rotation per secret at a time");
        });
        SecretVersionEntity current = versions.inState(env, secret.name(), VersionState.CURRENT)
                .orElseThrow(() -> ApiException.conflict(env + "/" + secret.name() + " has no CURRENT version yet"));
        Instant now = Clocks.now(clock);
        RotationEntity r = new RotationEntity();
        r.id = newId();
        r.environment = env;
        r.secret = secret.name();
        r.kind = kind;
        r.status = RotationStatus.PENDING;
        r.fromVersion = current.version;
        r.requestedBy = actor;
        r.reason = reason.value();
        r.requestedAt = now;
        rotations.persist(r);
        RotationStepEntity.of(r.id, "request", StepStatus.DONE, now, kind.name()).persist();
        if (kind == RotationKind.ROLLBACK) {
            SecretVersionEntity previous = versions.inState(env, secret.name(), VersionState.PREVIOUS)
                    .orElseThrow(() -> ApiException.conflict(env + "/" + secret.name()
                            + " has no PREVIOUS version to roll back to"));
            r.toVersion = previous.version;
            return r;
        }
        long next = versions.maxVersion(env, secret.name()) + 1;
        try (SecretValue value = imported.isPresent() ? null : SecretGenerator.generate(secret.alphabet(), secret.length())) {
            SecretValue v = imported.orElse(value);
            stageVersion(env, secret.name(), next, v, r.id, now);
        }
        RotationStepEntity.of(r.id, kind == RotationKind.IMPORT ? "import" : "generate", StepStatus.DONE, now, null).persist();
        RotationStepEntity.of(r.id, "store-pending", StepStatus.DONE, now, "version " + next).persist();
        r.toVersion = next;
        return r;
    }

    /** Inserts a sealed version in the given state; shared with INITIAL versions at start. */
    SecretVersionEntity stageVersion(String env, String secret, long version, SecretValue value, String rotationId,
                                     Instant now) {
        SecretVersionEntity v = new SecretVersionEntity();
        v.environment = env;
        v.secret = secret;
        v.version = version;
        v.state = VersionState.PENDING;
        v.ciphertext = store.seal(env, secret, version, value);
        v.fingerprint = store.fingerprint(value);
        v.rotationId = rotationId;
        v.createdAt = now;
        versions.persist(v);
        return v;
    }

    public Optional<RotationEntity> find(String id) {
        return rotations.findByIdOptional(id);
    }

    public List<RotationStepEntity> steps(String id) {
        return rotations.steps(id);
    }

    static String newId() {
        byte[] id = new byte[8];
        Randoms.strong().nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
