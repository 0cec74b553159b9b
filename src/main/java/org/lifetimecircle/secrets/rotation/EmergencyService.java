package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditService;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * The emergency procedure's first, atomic part (revoke first, then rotate): in one audited commit
 * it pre-empts the environment's running rotations, REVOKES every readable version of every secret
 * (no grace; their ciphertext destroyed) and promotes a freshly generated CURRENT for each. The
 * engine then writes the env file, restarts the app, checks it and revokes the other principals'
 * grants. Nothing afterwards can bring a revoked value back.
 */
@ApplicationScoped
public class EmergencyService {

    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final RotationService service;
    private final RotationEngine engine;
    private final AuditService audit;
    private final AuditWriter writer;
    private final EntityManager em;
    private final Clock clock;
    // After a restore: refused until an admin releases the hold (the emergency writes the env file).
    @jakarta.inject.Inject
    org.lifetimecircle.secrets.restorehold.EnvFileHold hold;

    EmergencyService(RotationRepository rotations, SecretVersionRepository versions, RotationService service,
                     RotationEngine engine, AuditService audit, AuditWriter writer, EntityManager em, Clock clock) {
        this.writer = writer;
        this.rotations = rotations;
        this.versions = versions;
        this.service = service;
        this.engine = engine;
        this.audit = audit;
        this.em = em;
        this.clock = clock;
    }

    public RotationEntity request(EnvironmentPolicy policy, Reason reason, String incident, String actor,
                                  String requestId) {
        RotationEntity r = audit.mutate("emergency.start", policy.environment(), incident,
                () -> start(policy, reason, incident, actor), EmergencyService::startDetails);
        engine.schedule(r.id, requestId);
        return r;
    }

    /**
     * Starts the procedure on the service's own decision (the scheduler, for {@code whenOverdue} or
     * {@code onDrift: emergency}), audited with {@code actor}. Refused (409) while one is running.
     */
    public RotationEntity requestAs(String actor, EnvironmentPolicy policy, Reason reason) {
        AuditDraft base = new AuditDraft(actor, "emergency.start", policy.environment(), null, Outcome.SUCCESS,
                null, null, Map.of());
        RotationEntity r = writer.submit(new Unit<>(() -> start(policy, reason, null, actor),
                row -> base.withOutcome(Outcome.SUCCESS, startDetails(row)),
                e -> base.withOutcome(Outcome.FAILED, AuditService.failureDetails(e))));
        engine.schedule(r.id, null);
        return r;
    }

    private static Map<String, Object> startDetails(RotationEntity row) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("rotationId", row.id);
        d.put("incident", row.incident);
        d.put("reason", row.reason);
        return d;
    }

    private RotationEntity start(EnvironmentPolicy policy, Reason reason, String incident, String actor) {
        String env = policy.environment();
        hold.requireReleased();
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
        rotations.persist(r);
        RotationStepEntity.of(r.id, "request", "DONE", now, "incident " + r.incident).persist();

        for (RotationEntity a : active) {
            a.status = RotationStatus.FAILED;
            a.finishedAt = now;
            RotationStepEntity.of(a.id, "pre-empted", "FAILED", now, "by emergency rotation " + r.id).persist();
            versions.inState(env, a.secret, VersionState.PENDING).ifPresent(v -> v.end(VersionState.RETIRED, now));
        }
        RotationStepEntity.of(r.id, "pre-empt", "DONE", now, active.size() + " running rotation(s) pre-empted")
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
        RotationStepEntity.of(r.id, "revoke-versions", "DONE", now, revoked + " version(s) REVOKED, values destroyed")
                .persist();
        RotationStepEntity.of(r.id, "generate-and-promote", "DONE", now, "CURRENT now " + promoted).persist();
        return r;
    }
}
