package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditUnavailableException;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * How a ROTATION, IMPORT or ROLLBACK that does not go through ends, the file on disk put back first: FAILED
 * ({@link #fail}: the file could not be written, or a stage became impossible) or ROLLED_BACK ({@link #rollBack}:
 * the app was not healthy on the new file, so the old file is back and the app restarted on it). Either way the
 * staged version is retired, the CURRENT version stays, the journal says what happened, and an alert goes out.
 * The file put back is the one that was there: the hand-made file an import replaced, else the CURRENT versions'.
 */
@ApplicationScoped
class RotationRollback {

    private static final Logger LOG = Logger.getLogger(RotationRollback.class);

    private final StageJournal journal;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final EnvFileService files;
    private final EnvFileSync fileSync;
    private final AppRestarter restarter;
    private final Alerts alerts;
    private final Clock clock;

    RotationRollback(StageJournal journal, RotationRepository rotations, SecretVersionRepository versions,
                     EnvFileService files, EnvFileSync fileSync, AppRestarter restarter, Alerts alerts, Clock clock) {
        this.journal = journal;
        this.rotations = rotations;
        this.versions = versions;
        this.files = files;
        this.fileSync = fileSync;
        this.restarter = restarter;
        this.alerts = alerts;
        this.clock = clock;
    }

    /**
     * The app did not come back healthy with the new file: put the CURRENT version's file back,
     * restart again, and end ROLLED_BACK with the staged version retired. Alerts either way.
     */
    void rollBack(RotationEntity r, String requestId, EnvironmentPolicy policy, StageSteps appSteps,
                  byte[] original) {
        StageSteps steps = appSteps.copy();
        boolean restored = restoreFile(policy, original);
        steps.add("restore-env-file", StepStatus.of(restored), !restored ? "could not rewrite the file; see the log"
                : original != null ? "the file that was there before the import is back"
                : "the CURRENT version's file is back");
        restarter.restartAndCheck(policy.app().get(), AppRestarter.Occasion.ROLLBACK, steps);
        String failedStep = appSteps.firstFailed().orElse("restart");
        try {
            journal.commit(r.id, "rollback", new Unit<>(() -> {
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
                return journal.draft(r, requestId, "rotation.rollback", Outcome.FAILED, d);
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

    /**
     * Ends the rotation FAILED with its staged version retired. {@code restore} is set when the env
     * file was already replaced: then the file is rewritten from the CURRENT version first.
     */
    void fail(RotationEntity r, String requestId, String step, String reason, EnvironmentPolicy restore,
              byte[] original) {
        if (restore != null) {
            restoreFile(restore, original);
        }
        try {
            journal.commit(r.id, "failure", new Unit<>(() -> {
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
            }, x -> journal.draft(r, requestId, "rotation.fail", Outcome.FAILED,
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
    private boolean restoreFile(EnvironmentPolicy policy, byte[] original) {
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
}
