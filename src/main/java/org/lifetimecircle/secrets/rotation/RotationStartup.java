package org.lifetimecircle.secrets.rotation;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.envfile.EnvFileRenderer;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileWriteException;
import org.lifetimecircle.secrets.envfile.EnvFileWriter;
import org.lifetimecircle.secrets.envfile.SecretValues;
import org.lifetimecircle.secrets.environment.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * What runs at start, in this order: leftover temporary files removed; rotations a crash
 * interrupted mid-way rolled back (RUNNING) or resumed (PENDING, never started); an INITIAL
 * version 1 for every secret without one; every env file brought in line with its CURRENT versions
 * (never overwriting a file this service did not write: that is reported as a conflict).
 */
@ApplicationScoped
public class RotationStartup {

    private static final Logger LOG = Logger.getLogger(RotationStartup.class);
    private static final String SYSTEM = "system";

    private final AuditWriter writer;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final RotationService service;
    private final RotationEngine engine;
    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvironmentRegistry environments;
    private final AppRestarter restarter;
    private final Alerts alerts;
    private final Clock clock;

    RotationStartup(AuditWriter writer, RotationRepository rotations, SecretVersionRepository versions,
                    RotationService service, RotationEngine engine, CurrentValues currentValues, EnvFileService files,
                    EnvironmentRegistry environments, AppRestarter restarter, Alerts alerts, Clock clock) {
        this.restarter = restarter;
        this.alerts = alerts;
        this.writer = writer;
        this.rotations = rotations;
        this.versions = versions;
        this.service = service;
        this.engine = engine;
        this.currentValues = currentValues;
        this.files = files;
        this.environments = environments;
        this.clock = clock;
    }

    public void run() {
        for (EnvironmentPolicy p : environments.all()) {
            int removed = files.removeLeftovers(p);
            if (removed > 0) {
                LOG.infof("environment %s: removed %d leftover temporary env file(s)", p.environment(), removed);
            }
        }
        List<RotationEntity> unfinished = read(rotations::unfinished);
        Set<String> recovered = new HashSet<>();
        for (RotationEntity r : unfinished) {
            if (r.status == RotationStatus.RUNNING && r.kind != RotationKind.EMERGENCY) {
                rollBackInterrupted(r);
                recovered.add(r.environment);
            }
        }
        for (EnvironmentPolicy p : environments.all()) {
            for (SecretPolicy s : p.secrets().values()) {
                if (!read(() -> versions.any(p.environment(), s.name()))) {
                    initial(p, s);
                }
            }
            sync(p);
            if (recovered.contains(p.environment()) && p.app().isPresent()) {
                restartAfterRecovery(p);
            }
        }
        for (RotationEntity r : unfinished) {
            // An emergency is resumed even from RUNNING: its values are already revoked, never rolled back.
            if (r.status == RotationStatus.PENDING || r.kind == RotationKind.EMERGENCY) {
                LOG.infof("rotation %s of %s/%s was accepted before the restart; resuming it", r.id, r.environment,
                        r.secret);
                engine.schedule(r.id, null);
            }
        }
    }

    // The app may have been restarted with the rolled-back file: restart it on the restored one.
    private void restartAfterRecovery(EnvironmentPolicy p) {
        AppRestarter.Outcome restarted = restarter.restart(p.app().get());
        AppRestarter.Outcome healthy = restarted.ok() ? restarter.awaitHealthy(p.app().get()) : restarted;
        if (healthy.ok()) {
            LOG.infof("environment %s: app restarted on the recovered env file (%s)", p.environment(), healthy.detail());
        } else {
            alerts.raise("recovery.app-unhealthy", p.environment(), "after recovering an interrupted rotation the app "
                    + "did not come back healthy: " + healthy.detail(), Map.of());
        }
    }

    // A RUNNING rotation may have replaced the file but not promoted: undo it. The file is re-rendered
    // from the unchanged CURRENT versions by sync() right after.
    private void rollBackInterrupted(RotationEntity r) {
        writer.submit(new Unit<>(() -> {
            Instant now = Clocks.now(clock);
            RotationEntity row = rotations.findById(r.id);
            if (row.kind != RotationKind.ROLLBACK) {
                versions.inState(row.environment, row.secret, VersionState.PENDING)
                        .ifPresent(v -> v.end(VersionState.RETIRED, now));
            }
            RotationStepEntity.of(row.id, "recover", "DONE", now,
                    "interrupted by a restart; rolled back to the CURRENT version").persist();
            row.status = RotationStatus.ROLLED_BACK;
            row.finishedAt = now;
            return null;
        }, x -> system("system.recover", r.environment, r.secret,
                Map.of("rotationId", r.id, "kind", r.kind.name(), "outcome", "rolled back")), null));
        LOG.warnf("rotation %s of %s/%s was interrupted by a restart; rolled back", r.id, r.environment, r.secret);
    }

    private void initial(EnvironmentPolicy p, SecretPolicy s) {
        String id = RotationService.newId();
        writer.submit(new Unit<>(() -> {
            Instant now = Clocks.now(clock);
            RotationEntity r = new RotationEntity();
            r.id = id;
            r.environment = p.environment();
            r.secret = s.name();
            r.kind = RotationKind.INITIAL;
            r.status = RotationStatus.COMPLETED;
            r.toVersion = 1L;
            r.requestedBy = SYSTEM;
            r.reason = "first start: the secret had no version";
            r.requestedAt = now;
            r.finishedAt = now;
            rotations.persist(r);
            try (SecretValue value = SecretGenerator.generate(s.alphabet(), s.length())) {
                SecretVersionEntity v = service.stageVersion(p.environment(), s.name(), 1, value, id, now);
                v.state = VersionState.CURRENT;
                v.promotedAt = now;
            }
            RotationStepEntity.of(id, "generate", "DONE", now, null).persist();
            RotationStepEntity.of(id, "store", "DONE", now, "version 1").persist();
            RotationStepEntity.of(id, "promote", "DONE", now, "version 1 is CURRENT; the env file follows").persist();
            RotationStepEntity.of(id, "finish", "DONE", now, null).persist();
            return null;
        }, x -> system("rotation.complete", p.environment(), s.name(),
                Map.of("rotationId", id, "kind", "INITIAL", "toVersion", 1)), null));
        LOG.infof("environment %s: created version 1 of %s (INITIAL rotation %s)", p.environment(), s.name(), id);
    }

    /** Writes the env file if it differs from what the CURRENT versions render, unless someone else's file is there. */
    public void sync(EnvironmentPolicy p) {
        sync(p, "start: the file was missing or out of date", SYSTEM);
    }

    /** {@link #sync(EnvironmentPolicy)} recording {@code cause} and {@code actor} in the audit event. */
    public void sync(EnvironmentPolicy p, String cause, String actor) {
        try {
            writeCurrent(p, cause, actor, false);
        } catch (EnvFileWriteException e) {
            LOG.errorf("environment %s: cannot write the env file: %s", p.environment(), e.getMessage());
        }
    }

    /**
     * Rewrites the env file from the CURRENT versions even though it is not what this service wrote
     * (drift repair): over changed content or mode, and over a link put in its place (the link is
     * replaced, never followed). Audited as {@code envfile.write} with {@code cause}.
     *
     * @throws EnvFileWriteException if the file cannot be written (a directory in its place, say)
     */
    public void repair(EnvironmentPolicy p, String cause, String actor) {
        writeCurrent(p, cause, actor, true);
    }

    private void writeCurrent(EnvironmentPolicy p, String cause, String actor, boolean repair) {
        ReentrantLock lock = files.lock(p.environment());
        lock.lock();
        try {
            Map<String, SecretValues> values = read(() -> currentValues.values(p, currentValues.slots(p.environment())))
                    .orElse(null);
            if (values == null) {
                return;
            }
            byte[] content = EnvFileRenderer.render(p, values);
            try {
                // Content, mode, owner and group: a policy's new mode is applied like new content.
                String problem = files.problemWith(p, files.fingerprint(content), content.length);
                if (problem == null && !repair) {
                    return;
                }
                if (!repair && !files.absentOrOurs(p)) {
                    LOG.warnf("environment %s: %s exists and was not written by ltc-secrets; left alone. Remove it, "
                            + "or adopt its value with POST /api/v1/environments/%s/secrets/{name}/import",
                            p.environment(), files.target(p), p.environment());
                    return;
                }
                EnvFileWriter.WriteResult written = repair ? files.overwrite(p, content) : files.write(p, content);
                String secretVersions = EnvFileService.versions(values);
                writer.submit(new Unit<>(() -> {
                    files.recordWrite(p, written, secretVersions, Clocks.now(clock));
                    return null;
                }, x -> {
                    Map<String, Object> d = new LinkedHashMap<>();
                    d.put("path", p.envFile().path());
                    d.put("fingerprint", written.fingerprint());
                    d.put("secretVersions", secretVersions);
                    d.put("cause", cause);
                    d.put("before", problem == null ? "the file was as rendered" : "the file " + problem);
                    return new AuditDraft(actor, "envfile.write", p.environment(), null, Outcome.SUCCESS, null, null, d);
                }, null));
            } finally {
                Arrays.fill(content, (byte) 0);
            }
        } finally {
            lock.unlock();
        }
    }

    private static AuditDraft system(String action, String environment, String target, Map<String, Object> details) {
        return new AuditDraft(SYSTEM, action, environment, target, Outcome.SUCCESS, null, null, details);
    }

    private static <T> T read(java.util.function.Supplier<T> work) {
        return QuarkusTransaction.requiringNew().call(work::get);
    }
}
