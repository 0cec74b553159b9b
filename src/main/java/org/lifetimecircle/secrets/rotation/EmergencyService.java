package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.lifetimecircle.secrets.access.GrantService;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.auth.Caller;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.ApprovalsPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * The emergency procedure's first, atomic part (revoke first, then rotate): in one audited commit
 * it pre-empts the environment's running rotations, revokes every grant on the environment except
 * the caller's, REVOKES every readable version of every secret (no grace; their ciphertext
 * destroyed) and promotes a freshly generated CURRENT for each. The grants fall in this commit, not
 * after the restart: the env-file fetch serves the new CURRENT from the database at once, so the
 * principal whose leak caused the emergency must be cut off before it exists. The engine then
 * writes the env file, restarts the app and checks it. Nothing afterwards can bring a revoked
 * value back.
 */
@ApplicationScoped
public class EmergencyService {

    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final RotationService service;
    private final RotationEngine engine;
    private final AuditService audit;
    private final AuditWriter writer;
    private final GrantService grants;
    private final EntityManager em;
    private final Clock clock;
    // After a restore: refused until an admin releases the hold (the emergency writes the env file).
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EmergencyService(RotationRepository rotations, SecretVersionRepository versions, RotationService service,
                     RotationEngine engine, AuditService audit, AuditWriter writer, GrantService grants,
                     EntityManager em, Clock clock) {
        this.writer = writer;
        this.grants = grants;
        this.rotations = rotations;
        this.versions = versions;
        this.service = service;
        this.engine = engine;
        this.audit = audit;
        this.em = em;
        this.clock = clock;
    }

    /** Starts the procedure for {@code caller}, who alone keeps its grants on the environment. */
    public RotationEntity request(EnvironmentPolicy policy, Reason reason, String incident, Caller caller,
                                  String requestId) {
        RotationEntity r = audit.mutate("emergency.start", policy.environment(), incident,
                () -> start(policy, reason, incident, caller.name(), caller.principalId()),
                EmergencyService::startDetails).rotation();
        engine.schedule(r.id, requestId);
        return r;
    }

    /**
     * Starts the procedure on the service's own decision (the scheduler, for {@code whenOverdue} or
     * {@code onDrift: emergency}), audited with {@code actor}. Refused (409) while one is running.
     * No principal started it, so every grant on the environment is revoked.
     */
    public RotationEntity requestAs(String actor, EnvironmentPolicy policy, Reason reason) {
        AuditDraft base = AuditDraft.by(actor).action("emergency.start").environment(policy.environment());
        RotationEntity r = writer.submit(new Unit<>(() -> start(policy, reason, null, actor, null),
                started -> base.withOutcome(Outcome.SUCCESS, startDetails(started)),
                e -> base.withOutcome(Outcome.FAILED, AuditService.failureDetails(e)))).rotation();
        engine.schedule(r.id, null);
        return r;
    }

    /** What the first commit did: the rotation, and how many grants of other principals it revoked. */
    record Started(RotationEntity rotation, int grantsRevoked, int approvalsDenied) {
    }

    /** The reason recorded on every grant an emergency revokes; also how they are counted later. */
    static String grantRevokeReason(RotationEntity r) {
        return "emergency rotation " + r.id + " (incident " + r.incident + ")";
    }

    private static Map<String, Object> startDetails(Started started) {
        RotationEntity row = started.rotation();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("rotationId", row.id);
        d.put("incident", row.incident);
        d.put("reason", row.reason);
        d.put("grantsRevoked", started.grantsRevoked());
        if (started.approvalsDenied() > 0) {
            d.put("approvalsDenied", started.approvalsDenied());
        }
        if (row.reviewRequired == 1) {
            d.put("reviewRequired", true);
        }
        return d;
    }

    private Started start(EnvironmentPolicy policy, Reason reason, String incident, String actor,
                          Long keepPrincipalId) {
        String env = policy.environment();
        // No hold check: an emergency writes only fresh values, and after a restore it is the fix for a leak
        // the backup predates; it must not wait for the release that would first write the restored key back.
        List<RotationEntity> active = rotations.activeIn(env);
        active.stream().filter(a -> a.kind == RotationKind.EMERGENCY).findFirst().ifPresent(e -> {
            throw ApiException.conflict("emergency rotation " + e.id + " of " + env + " is already " + e.status);
        });
        Instant now = Clocks.now(clock);
        RotationEntity r = new RotationEntity();
        r.id = RotationService.newId();
        r.environment = env;
        r.kind = RotationKind.EMERGENCY;
        r.status = RotationStatus.PENDING;
        r.requestedBy = actor;
        r.reason = reason.value();
        r.incident = incident == null ? "EMR-" + r.id : incident;
        r.requestedAt = now;
        // Emergencies never wait for a second person; where the policy asks for one, they review it afterwards.
        r.reviewRequired = policy.approvals().map(ApprovalsPolicy::any).orElse(false) ? 1 : 0;
        rotations.persist(r);
        RotationStepEntity.of(r.id, "request", StepStatus.DONE, now, "incident " + r.incident).persist();

        for (RotationEntity a : active) {
            a.status = RotationStatus.FAILED;
            a.finishedAt = now;
            RotationStepEntity.of(a.id, "pre-empted", StepStatus.FAILED, now, "by emergency rotation " + r.id).persist();
            versions.inState(env, a.secret, VersionState.PENDING).ifPresent(v -> v.end(VersionState.RETIRED, now));
        }
        RotationStepEntity.of(r.id, "pre-empt", StepStatus.DONE, now, active.size() + " running rotation(s) pre-empted")
                .persist();

        // Before the new values exist: from the next request on only the caller can fetch them.
        int revokedGrants = grants.revokeAllOnExcept(env, keepPrincipalId, actor, grantRevokeReason(r), now);
        // A grant or rotation still waiting for approval was judged before the leak: approving it later must not
        // open the door again (or bring back an imported value), so the emergency denies them in the same commit.
        int voided = em.createNativeQuery("update approval set status = 'DENIED', decided_at = ?1, "
                        + "decision_reason = ?2, import_ciphertext = NULL where environment = ?3 and status = 'PENDING'")
                .setParameter(1, now.toEpochMilli()).setParameter(2, "voided by emergency rotation " + r.id
                        + " (incident " + r.incident + ")").setParameter(3, env).executeUpdate();
        RotationStepEntity.of(r.id, "revoke-grants", StepStatus.DONE, now, revokedGrants + " grant(s) "
                + (keepPrincipalId == null ? "revoked; nobody keeps access" : "of other principals revoked; "
                + actor + " keeps access") + (voided == 0 ? "" : "; " + voided + " pending approval(s) denied"))
                .persist();

        int revoked = 0;
        StringJoiner promoted = new StringJoiner(",");
        for (SecretPolicy s : policy.secrets().values()) {
            SecretVersionEntity current = versions.inState(env, s.name(), VersionState.CURRENT).orElse(null);
            Long from = current == null ? null : current.version;
            // Revoke first: every readable version, CURRENT included, before the new one exists.
            for (VersionState state : List.of(VersionState.CURRENT, VersionState.PREVIOUS, VersionState.PENDING)) {
                SecretVersionEntity v = versions.inState(env, s.name(), state).orElse(null);
                if (v != null) {
                    v.end(VersionState.REVOKED, now);
                    revoked++;
                }
            }
            versions.flush();
            long next = versions.maxVersion(env, s.name()) + 1;
            try (SecretValue value = SecretGenerator.generate(s.alphabet(), s.length())) {
                SecretVersionEntity v = service.stageVersion(env, s.name(), next, value, r.id, now);
                v.state = VersionState.CURRENT;
                v.promotedAt = now;
            }
            em.createNativeQuery("insert into emergency_secret (rotation_id, secret, from_version, to_version) "
                    + "values (?1, ?2, ?3, ?4)").setParameter(1, r.id).setParameter(2, s.name())
                    .setParameter(3, from).setParameter(4, next).executeUpdate();
            promoted.add(s.name() + ":" + next);
        }
        RotationStepEntity.of(r.id, "revoke-versions", StepStatus.DONE, now, revoked + " version(s) REVOKED, values destroyed")
                .persist();
        RotationStepEntity.of(r.id, "generate-and-promote", StepStatus.DONE, now, "CURRENT now " + promoted).persist();
        return new Started(r, revokedGrants, voided);
    }
}
