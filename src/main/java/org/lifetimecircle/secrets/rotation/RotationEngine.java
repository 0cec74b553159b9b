package org.lifetimecircle.secrets.rotation;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.access.GrantService;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditUnavailableException;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.envfile.EnvFileRenderer;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileStates;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
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
 * Runs rotation jobs in the background, one journaled commit per stage: mark RUNNING, write the env
 * file (outside any transaction, under the environment's lock), restart the app and check its
 * health when the policy has an {@code app} section, then promote and finish in one commit with its
 * audit event. If the file cannot be written, the staged version is retired, the rotation FAILED,
 * and the CURRENT version and the file on disk stay as they were; if the app does not come back
 * healthy, the old file is put back, the app restarted again and the rotation ends ROLLED_BACK.
 */
@ApplicationScoped
public class RotationEngine {

    private static final Logger LOG = Logger.getLogger(RotationEngine.class);
    /** Pauses between attempts to record a stage while the database refuses writes. */
    private static final long RETRY_FIRST_MILLIS = 200;
    private static final long RETRY_MAX_MILLIS = 5_000;

    private final AuditWriter writer;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvFileStates states;
    private final EnvFileSync fileSync;
    private final EnvironmentRegistry environments;
    private final AppRestarter restarter;
    private final Alerts alerts;
    private final GrantService grants;
    private final ImportBackups backups;
    private final Clock clock;
    private final AtomicInteger threadCount = new AtomicInteger();
    /** Rotations with a job in this process, queued or running. */
    private final Set<String> withJob = ConcurrentHashMap.newKeySet();
    /** Set at shutdown: stages stop waiting for the database; start-up recovery takes their rotations. */
    private volatile boolean stopping;
    private final ExecutorService jobs = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "rotation-job-" + threadCount.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    RotationEngine(AuditWriter writer, RotationRepository rotations, SecretVersionRepository versions,
                   CurrentValues currentValues, EnvFileService files, EnvFileStates states, EnvFileSync fileSync,
                   EnvironmentRegistry environments,
                   AppRestarter restarter, Alerts alerts, GrantService grants, ImportBackups backups, Clock clock) {
        this.grants = grants;
        this.backups = backups;
        this.restarter = restarter;
        this.alerts = alerts;
        this.writer = writer;
        this.rotations = rotations;
        this.versions = versions;
        this.currentValues = currentValues;
        this.files = files;
        this.states = states;
        this.fileSync = fileSync;
        this.environments = environments;
        this.clock = clock;
    }

    /**
     * Runs the journaled rotation in the background; the caller already has its 202. A rotation
     * that has a job in this process (queued or running) gets no second one.
     */
    public void schedule(String rotationId, String requestId) {
        if (!withJob.add(rotationId)) {
            return;
        }
        try {
            jobs.execute(() -> {
                try {
                    run(rotationId, requestId);
                } catch (RuntimeException e) {
                    // Left PENDING or RUNNING: recovered at the next start. Ids only in the log.
                    LOG.errorf("rotation %s stopped: %s", rotationId, e.getClass().getSimpleName());
                } finally {
                    withJob.remove(rotationId);
                }
            });
        } catch (RuntimeException e) {
            withJob.remove(rotationId);
            throw e;
        }
    }

    /**
     * Starts a job for every rotation still PENDING that was requested before {@code requestedBefore}
     * and has none in this process: one whose request committed although its caller was told the
     * audit trail did not answer (503), or whose job stopped before it started. Without this it
     * would wait for the next restart and refuse every other rotation of its secret (409) meanwhile.
     * Called by the scheduler's run; returns how many it started.
     */
    public int resumeOrphaned(Instant requestedBefore) {
        int resumed = 0;
        for (RotationEntity r : read(() -> rotations.pendingRequestedBefore(requestedBefore))) {
            if (!withJob.contains(r.id)) {
                LOG.warnf("rotation %s of %s is PENDING without a job; starting it", r.id, r.environment);
                schedule(r.id, null);
                resumed++;
            }
        }
        return resumed;
    }

    void onShutdown(@Observes @Priority(5) ShutdownEvent event) {
        // Before the audit writer stops (priority 10): let running jobs reach a journaled state.
        stopping = true;
        jobs.shutdown();
        try {
            jobs.awaitTermination(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void run(String rotationId, String requestId) {
        RotationEntity r = read(() -> rotations.findById(rotationId));
        if (r == null || r.status.finished()) {
            return;
        }
        EnvironmentPolicy policy = environments.find(r.environment).orElse(null);
        if (r.kind == RotationKind.EMERGENCY) {
            runEmergency(r, requestId, policy);
            return;
        }
        ReentrantLock lock = files.lock(r.environment);
        lock.lock();
        byte[] original = null;
        try {
            // Pre-empted by an emergency while waiting for the lock?
            if (read(() -> rotations.findById(rotationId)).status.finished()) {
                return;
            }
            if (policy == null || !policy.secrets().containsKey(r.secret)) {
                fail(r, requestId, "policy", "the environment or secret is no longer in the policies", null, null);
                return;
            }
            if (r.kind == RotationKind.ROLLBACK && read(() -> versions.inState(r.environment, r.secret,
                    VersionState.PREVIOUS)).filter(v -> r.toVersion != null && v.version == r.toVersion).isEmpty()) {
                // Ended as FAILED, not left PENDING by a failed lookup: nothing changed yet.
                fail(r, requestId, "previous-version", "version " + r.toVersion + " is no longer PREVIOUS (retired or revoked "
                        + "since the rollback was requested); nothing to roll back to", null, null);
                return;
            }
            if (r.kind != RotationKind.IMPORT && !files.absentOrOurs(policy)) {
                // Only an import adopts a file someone else put there (its value is the one imported).
                fail(r, requestId, "write-env-file", "the file at " + policy.envFile().path()
                        + " was not written by ltc-secrets; remove it, or import its value", null, null);
                return;
            }
            // An import adopts the value of a file someone else wrote: if it does not go through, that
            // file (and so the value) must come back, not a file of the old CURRENT version.
            original = r.kind == RotationKind.IMPORT && !files.absentOrOurs(policy) ? files.readExisting(policy) : null;
            if (original != null && !keepBackup(r, requestId, original)) {
                return;
            }
            Instant promotedAt = Clocks.now(clock);
            markRunning(r, requestId, promotedAt);
            // Read after markRunning committed the promotion time, so the header renders it.
            Map<String, SecretValues> values = read(() -> valuesAfter(policy, r));
            byte[] content = EnvFileRenderer.render(policy, values);
            EnvFileWriter.WriteResult written;
            try {
                written = files.write(policy, content);
            } catch (EnvFileWriteException e) {
                fail(r, requestId, "write-env-file", e.getMessage(), e.replaced() ? policy : null, original);
                return;
            } finally {
                Arrays.fill(content, (byte) 0);
            }
            StageSteps appSteps = new StageSteps(clock)
                    .add("write-env-file", StepStatus.DONE, "fingerprint=" + written.fingerprint());
            if (policy.app().isPresent() && r.kind != RotationKind.INITIAL
                    && !restarter.restartAndCheck(policy.app().get(), AppRestarter.Occasion.ROTATION, appSteps).ok()) {
                rollBack(r, requestId, policy, appSteps, original);
                return;
            }
            try {
                promote(r, requestId, policy, written, EnvFileService.versions(values), appSteps);
            } catch (StageImpossible e) {
                fail(r, requestId, "promote", e.getMessage(), policy, original);
            }
        } finally {
            if (original != null) {
                Arrays.fill(original, (byte) 0);
                forgetBackup(r.id, policy);
            }
            lock.unlock();
        }
    }

    /**
     * Keeps the bytes of the file an import is about to replace, durably, in the data directory: if the
     * service dies before the import ends, start-up recovery puts them back. False (and the rotation
     * FAILED, nothing replaced) if they cannot be kept.
     */
    private boolean keepBackup(RotationEntity r, String requestId, byte[] original) {
        try {
            backups.keep(r.id, original);
            return true;
        } catch (RuntimeException e) {
            LOG.errorf("rotation %s: could not keep a copy of the file the import replaces (%s)", r.id,
                    e.getCause() != null ? e.getCause().getClass().getSimpleName() : e.getClass().getSimpleName());
            fail(r, requestId, "write-env-file", "not replaced: could not keep a copy of the file the import would "
                    + "replace in the data directory; see the log", null, null);
            return false;
        }
    }

    /** Removes an import's copy of the file it replaced once the rotation has ended; until then recovery needs it. */
    private void forgetBackup(String rotationId, EnvironmentPolicy policy) {
        try {
            RotationStatus status = read(() -> rotations.findById(rotationId)).status;
            if (status.finished()) {
                byte[] onDisk = files.absentOrOurs(policy) ? null : files.readExisting(policy);
                try {
                    backups.forgetIfSettled(rotationId, status, onDisk);
                } finally {
                    if (onDisk != null) {
                        Arrays.fill(onDisk, (byte) 0);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warnf("rotation %s: the copy of the file the import replaced stays until the next start (%s)",
                    rotationId, e.getClass().getSimpleName());
        }
    }

    /**
     * The emergency's second part, after its versions and the other principals' grants were revoked
     * and its new versions promoted: write the env file, restart and check the app, finish and alert.
     * A failure here ends it FAILED; the revoked values and grants stay revoked.
     */
    private void runEmergency(RotationEntity r, String requestId, EnvironmentPolicy policy) {
        ReentrantLock lock = files.lock(r.environment);
        lock.lock();
        try {
            markRunning(r, requestId, null);
            StageSteps steps = new StageSteps(clock);
            boolean ok = false;
            EnvFileWriter.WriteResult[] written = new EnvFileWriter.WriteResult[1];
            String[] secretVersions = new String[1];
            if (policy == null) {
                steps.add("write-env-file", StepStatus.FAILED, "the environment is no longer in the policies");
            } else {
                try {
                    Map<String, SecretValues> values = read(() -> currentValues.values(policy,
                            currentValues.slots(r.environment))).orElseThrow();
                    byte[] content = EnvFileRenderer.render(policy, values);
                    try {
                        // Forceful on purpose: the leaked values are revoked and the file must carry the new
                        // ones, even where a link was put in its place (replaced, never followed).
                        written[0] = files.overwriteWithFreshValues(policy, content);
                        secretVersions[0] = EnvFileService.versions(values);
                        steps.add("write-env-file", StepStatus.DONE, "fingerprint=" + written[0].fingerprint());
                        ok = true;
                    } finally {
                        Arrays.fill(content, (byte) 0);
                    }
                } catch (EnvFileWriteException e) {
                    steps.add("write-env-file", StepStatus.FAILED, e.getMessage());
                }
                if (ok && policy.app().isPresent()) {
                    ok = restarter.restartAndCheck(policy.app().get(), AppRestarter.Occasion.ROTATION, steps).ok();
                }
            }
            boolean completed = ok;
            int[] revokedGrants = new int[1];
            journal(r.id, "finish", new Unit<>(() -> {
                Instant now = Clocks.now(clock);
                RotationEntity row = rotations.findById(r.id);
                steps.persist(row.id);
                if (written[0] != null) {
                    // What is on disk now, so drift checks compare with the emergency's file.
                    states.recordWrite(policy, written[0], secretVersions[0], now);
                }
                // The grants fell in the commit that accepted it. Only an emergency accepted by an older
                // version (resumed after the upgrade) has no revoke-grants step yet: revoke them now.
                if (rotations.steps(row.id).stream().noneMatch(s -> s.name.equals("revoke-grants"))) {
                    int late = grants.revokeAllOn(row.environment, row.requestedBy, row.requestedBy,
                            EmergencyService.grantRevokeReason(row), now);
                    RotationStepEntity.of(row.id, "revoke-grants", StepStatus.DONE, now, late
                            + " grant(s) of other principals revoked; " + row.requestedBy + " keeps access").persist();
                }
                revokedGrants[0] = (int) grants.revokedWithReason(row.environment, EmergencyService.grantRevokeReason(row));
                RotationStepEntity.of(row.id, "record-incident", StepStatus.DONE, now, "incident " + row.incident).persist();
                RotationStepEntity.of(row.id, "finish", StepStatus.DONE, now, completed ? null
                        : "FAILED: the revoked values stay revoked; fix the app and write the env file again").persist();
                row.status = completed ? RotationStatus.COMPLETED : RotationStatus.FAILED;
                row.finishedAt = now;
                return null;
            }, x -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("rotationId", r.id);
                d.put("incident", r.incident);
                d.put("grantsRevoked", revokedGrants[0]);
                return draft(r, requestId, "emergency.complete", completed ? Outcome.SUCCESS : Outcome.FAILED, d);
            }, null));
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("rotationId", r.id);
            details.put("incident", r.incident);
            details.put("grantsRevoked", revokedGrants[0]);
            alerts.raise(completed ? "emergency.completed" : "emergency.failed", r.environment, "emergency rotation "
                    + r.id + " (incident " + r.incident + ") " + (completed ? "completed" : "FAILED: "
                    + steps.firstFailed().orElse("?")),
                    details);
        } finally {
            lock.unlock();
        }
    }

    /** A stage that cannot be done with the versions as they are: the rotation ends FAILED. */
    static final class StageImpossible extends RuntimeException {
        StageImpossible(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The app did not come back healthy with the new file: put the CURRENT version's file back,
     * restart again, and end ROLLED_BACK with the staged version retired. Alerts either way.
     */
    private void rollBack(RotationEntity r, String requestId, EnvironmentPolicy policy, StageSteps appSteps,
                          byte[] original) {
        StageSteps steps = appSteps.copy();
        boolean restored = restoreFile(policy, original);
        steps.add("restore-env-file", StepStatus.of(restored), !restored ? "could not rewrite the file; see the log"
                : original != null ? "the file that was there before the import is back"
                : "the CURRENT version's file is back");
        restarter.restartAndCheck(policy.app().get(), AppRestarter.Occasion.ROLLBACK, steps);
        String failedStep = appSteps.firstFailed().orElse("restart");
        try {
            journal(r.id, "rollback", new Unit<>(() -> {
                Instant now = Clocks.now(clock);
                RotationEntity row = rotations.findById(r.id);
                if (row.status.finished()) {
                    throw new IllegalStateException("rotation " + r.id + " is already finished");
                }
                steps.persist(row.id);
                versions.inState(row.environment, row.secret, VersionState.PENDING)
                        .ifPresent(p -> p.end(VersionState.RETIRED, now));
                RotationStepEntity.of(row.id, "finish", StepStatus.DONE, now, "rolled back: the CURRENT version stays").persist();
                row.status = RotationStatus.ROLLED_BACK;
                row.finishedAt = now;
                return null;
            }, x -> {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("rotationId", r.id);
                d.put("kind", r.kind.name());
                d.put("automatic", true);
                d.put("failedStep", failedStep);
                return draft(r, requestId, "rotation.rollback", Outcome.FAILED, d);
            }, null));
        } catch (AuditUnavailableException e) {
            LOG.errorf("rotation %s was rolled back but could not be recorded before the service stopped; it is "
                    + "recovered at the next start", r.id);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rotationId", r.id);
        details.put("secret", r.secret);
        details.put("failedStep", failedStep);
        alerts.raise("rotation.rolled-back", r.environment, "rotation " + r.id + " of " + r.secret
                + " was rolled back: the app was not healthy after " + failedStep, details);
    }

    /** The environment's values as they will be once this rotation is promoted. */
    private Map<String, SecretValues> valuesAfter(EnvironmentPolicy policy, RotationEntity r) {
        Map<String, CurrentValues.Slot> slots = currentValues.slots(r.environment);
        Map<String, SecretValues> values = new HashMap<>(currentValues.values(policy, slots)
                .orElseThrow(() -> new IllegalStateException("environment " + r.environment + " has a secret without a CURRENT version")));
        SecretPolicy secret = policy.secrets().get(r.secret);
        CurrentValues.Slot slot = slots.get(r.secret);
        if (r.kind == RotationKind.ROLLBACK) {
            values.put(r.secret, currentValues.values(secret, slot.previous(), null));
        } else {
            SecretVersionEntity pending = versions.inState(r.environment, r.secret, VersionState.PENDING)
                    .orElseThrow(() -> new IllegalStateException("rotation " + r.id + " has no staged version"));
            values.put(r.secret, currentValues.values(secret, pending, slot.current()));
        }
        return values;
    }

    private void markRunning(RotationEntity r, String requestId, Instant promotedAt) {
        journal(r.id, "start", startUnit(r, requestId, promotedAt));
    }

    /** The commit that marks the rotation RUNNING: what {@link #markRunning} submits (and tests submit again). */
    Unit<Void> startUnit(RotationEntity r, String requestId, Instant promotedAt) {
        return new Unit<>(() -> {
            RotationEntity row = rotations.findById(r.id);
            if (row.status.finished()) {
                throw new IllegalStateException("rotation " + r.id + " was pre-empted");
            }
            row.status = RotationStatus.RUNNING;
            Instant now = Clocks.now(clock);
            if (row.kind == RotationKind.EMERGENCY) {
                // its versions were promoted when it was accepted
            } else if (row.kind == RotationKind.ROLLBACK) {
                versions.inState(row.environment, row.secret, VersionState.PREVIOUS).orElseThrow().promotedAt = promotedAt;
            } else {
                versions.inState(row.environment, row.secret, VersionState.PENDING).orElseThrow().promotedAt = promotedAt;
            }
            // Once: journal() submits this again when the writer did not answer in time, though the first
            // submission may have committed after all.
            if (rotations.steps(row.id).stream().noneMatch(s -> s.name.equals("start"))) {
                RotationStepEntity.of(row.id, "start", StepStatus.DONE, now, null).persist();
            }
            return (Void) null;
        }, x -> draft(r, requestId, "rotation.start", Outcome.SUCCESS, Map.of("rotationId", r.id, "kind", r.kind.name())),
                null);
    }

    private void promote(RotationEntity r, String requestId, EnvironmentPolicy policy, EnvFileWriter.WriteResult written,
                         String secretVersions, StageSteps appSteps) {
        String action = r.kind == RotationKind.ROLLBACK ? "rotation.rollback" : "rotation.complete";
        journal(r.id, "promote", new Unit<>(() -> {
            Instant now = Clocks.now(clock);
            RotationEntity row = rotations.findById(r.id);
            if (row.status.finished()) {
                throw new IllegalStateException("rotation " + r.id + " was pre-empted");
            }
            appSteps.persist(row.id);
            SecretVersionEntity current = versions.inState(row.environment, row.secret, VersionState.CURRENT).orElseThrow();
            SecretVersionEntity previous = versions.inState(row.environment, row.secret, VersionState.PREVIOUS).orElse(null);
            if (row.kind == RotationKind.ROLLBACK) {
                if (previous == null) {
                    throw new StageImpossible("the PREVIOUS version to roll back to is gone; the CURRENT version stays");
                }
                current.end(VersionState.RETIRED, now);
                versions.flush(); // the one-CURRENT index must see the old CURRENT gone first
                previous.state = VersionState.CURRENT;
                previous.previousSince = null;
                row.toVersion = previous.version;
            } else {
                SecretVersionEntity pending = versions.inState(row.environment, row.secret, VersionState.PENDING).orElseThrow();
                if (previous != null) {
                    previous.end(VersionState.RETIRED, now); // only one PREVIOUS at a time
                }
                versions.flush();
                current.state = VersionState.PREVIOUS;
                current.previousSince = now;
                versions.flush();
                pending.state = VersionState.CURRENT;
                row.toVersion = pending.version;
            }
            RotationStepEntity.of(row.id, "promote", StepStatus.DONE, now, "version " + row.toVersion + " is CURRENT").persist();
            RotationStepEntity.of(row.id, "finish", StepStatus.DONE, now, null).persist();
            row.status = RotationStatus.COMPLETED;
            row.finishedAt = now;
            states.recordWrite(policy, written, secretVersions, now);
            return row.toVersion;
        }, to -> {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("rotationId", r.id);
            d.put("kind", r.kind.name());
            d.put("fromVersion", r.fromVersion);
            d.put("toVersion", to);
            d.put("envFileFingerprint", written.fingerprint());
            return draft(r, requestId, action, Outcome.SUCCESS, d);
        }, null));
    }

    /**
     * Ends the rotation FAILED with its staged version retired. {@code restore} is set when the env
     * file was already replaced: then the file is rewritten from the CURRENT version first.
     */
    private void fail(RotationEntity r, String requestId, String step, String reason, EnvironmentPolicy restore,
                      byte[] original) {
        if (restore != null) {
            restoreFile(restore, original);
        }
        try {
            journal(r.id, "failure", new Unit<>(() -> {
                Instant now = Clocks.now(clock);
                RotationEntity row = rotations.findById(r.id);
                if (row.status.finished()) {
                    throw new IllegalStateException("rotation " + r.id + " is already finished");
                }
                RotationStepEntity.of(row.id, step, StepStatus.FAILED, now, reason).persist();
                versions.inState(row.environment, row.secret, VersionState.PENDING)
                        .ifPresent(p -> p.end(VersionState.RETIRED, now));
                RotationStepEntity.of(row.id, "finish", StepStatus.DONE, now, "the CURRENT version and the env file are unchanged")
                        .persist();
                row.status = RotationStatus.FAILED;
                row.finishedAt = now;
                return null;
            }, x -> draft(r, requestId, "rotation.fail", Outcome.FAILED,
                    Map.of("rotationId", r.id, "kind", r.kind.name(), "step", step)), null));
        } catch (AuditUnavailableException e) {
            LOG.errorf("rotation %s failed at %s and could not be recorded before the service stopped; it is "
                    + "recovered at the next start", r.id, step);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rotationId", r.id);
        details.put("secret", r.secret);
        details.put("kind", r.kind.name());
        details.put("failedStep", step);
        alerts.raise("rotation.failed", r.environment, "rotation " + r.id + " of " + r.secret + " FAILED at " + step
                + ": " + reason, details);
    }

    /**
     * Puts the file back as it was before the rotation: {@code original} if the rotation replaced a
     * file someone else wrote (an import), else rendered from the CURRENT versions ({@link EnvFileSync#restore}).
     * False (and logged) if that failed too.
     */
    boolean restoreFile(EnvironmentPolicy policy, byte[] original) {
        if (original != null) {
            try {
                files.write(policy, original);
                return true;
            } catch (RuntimeException e) {
                LOG.errorf("environment %s: could not put back the file the import replaced (%s)",
                        policy.environment(), e.getClass().getSimpleName());
                return false;
            }
        }
        return fileSync.restore(policy);
    }

    /**
     * Commits a stage of the rotation with its event. While the audit trail refuses writes (the data
     * directory full or read-only, an I/O error) the unit was rolled back and changed nothing, so it is
     * tried again, with a growing pause, until the database takes writes again: a rotation that such a
     * fault interrupts then finishes by itself instead of staying RUNNING, its new file on disk but not
     * promoted, until a restart. The job keeps the environment's lock meanwhile, so the drift check does
     * not "repair" the file under it. Gives up only when the service stops; start-up recovery then rolls
     * the rotation back.
     */
    private <R> R journal(String rotationId, String stage, Unit<R> unit) {
        long pauseMillis = RETRY_FIRST_MILLIS;
        boolean waiting = false;
        while (true) {
            try {
                R result = writer.submit(unit);
                if (waiting) {
                    LOG.infof("rotation %s: %s recorded; the audit trail takes writes again", rotationId, stage);
                }
                return result;
            } catch (AuditUnavailableException e) {
                if (stopping) {
                    throw e;
                }
                if (!waiting) {
                    LOG.errorf("rotation %s: %s cannot be recorded (the audit trail is unavailable); retrying until "
                            + "the database takes writes again", rotationId, stage);
                    waiting = true;
                }
                try {
                    Thread.sleep(pauseMillis);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pauseMillis = Math.min(pauseMillis * 2, RETRY_MAX_MILLIS);
            }
        }
    }

    private AuditDraft draft(RotationEntity r, String requestId, String action, Outcome outcome,
                             Map<String, Object> details) {
        return new AuditDraft(r.requestedBy, action, r.environment, r.secret, outcome, requestId, null, details);
    }

    private static <T> T read(java.util.function.Supplier<T> work) {
        return QuarkusTransaction.requiringNew().call(work::get);
    }
}
