package org.lifetimecircle.secrets.rotation;

import static org.lifetimecircle.secrets.rotation.StageJournal.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.envfile.EnvFileRenderer;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileStates;
import org.lifetimecircle.secrets.envfile.EnvFileWriteException;
import org.lifetimecircle.secrets.envfile.EnvFileWriter;
import org.lifetimecircle.secrets.secret.SecretValues;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.CurrentValues;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * A ROTATION, IMPORT or ROLLBACK job, stage by stage under the environment's lock: checks (still wanted, the
 * secret still in the policies, a ROLLBACK's PREVIOUS still there, the file ours unless an import adopts it), an
 * import's copy of the file it replaces kept, RUNNING committed, the file written, the app restarted and checked,
 * then the promotion committed. What does not go through ends in {@link RotationRollback}.
 */
@ApplicationScoped
class RotationRun {

    private static final Logger LOG = Logger.getLogger(RotationRun.class);

    private final StageJournal journal;
    private final RotationRollback rollback;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvFileStates states;
    private final AppRestarter restarter;
    private final ImportBackups backups;
    private final LiveSteps live;
    private final Clock clock;

    RotationRun(StageJournal journal, RotationRollback rollback, RotationRepository rotations,
                SecretVersionRepository versions, CurrentValues currentValues, EnvFileService files,
                EnvFileStates states, AppRestarter restarter, ImportBackups backups, LiveSteps live, Clock clock) {
        this.journal = journal;
        this.rollback = rollback;
        this.rotations = rotations;
        this.versions = versions;
        this.currentValues = currentValues;
        this.files = files;
        this.states = states;
        this.restarter = restarter;
        this.backups = backups;
        this.live = live;
        this.clock = clock;
    }

    /**
     * Runs {@code r} (a ROTATION, IMPORT or ROLLBACK; {@code policy} null if its environment is gone) to its end,
     * under the environment's lock.
     */
    void run(RotationEntity r, String requestId, EnvironmentPolicy policy) {
        String rotationId = r.id;
        ReentrantLock lock = files.lock(r.environment);
        lock.lock();
        byte[] original = null;
        try {
            // Pre-empted by an emergency while waiting for the lock?
            if (read(() -> rotations.findById(rotationId)).status.finished()) {
                return;
            }
            if (policy == null || !policy.secrets().containsKey(r.secret)) {
                rollback.fail(r, requestId, "policy", "the environment or secret is no longer in the policies", null, null);
                return;
            }
            if (r.kind == RotationKind.ROLLBACK && read(() -> versions.inState(r.environment, r.secret,
                    VersionState.PREVIOUS)).filter(v -> r.toVersion != null && v.version == r.toVersion).isEmpty()) {
                // Ended as FAILED, not left PENDING by a failed lookup: nothing changed yet.
                rollback.fail(r, requestId, "previous-version", "version " + r.toVersion + " is no longer PREVIOUS (retired or revoked "
                        + "since the rollback was requested); nothing to roll back to", null, null);
                return;
            }
            if (r.kind != RotationKind.IMPORT && !files.absentOrOurs(policy)) {
                // Only an import adopts a file someone else put there (its value is the one imported).
                rollback.fail(r, requestId, "write-env-file", "the file at " + policy.envFile().path()
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
            journal.markRunning(r, requestId, promotedAt);
            // Read after markRunning committed the promotion time, so the header renders it.
            Map<String, SecretValues> values = read(() -> valuesAfter(policy, r));
            byte[] content = EnvFileRenderer.render(policy, values);
            EnvFileWriter.WriteResult written;
            try {
                written = files.write(policy, content);
            } catch (EnvFileWriteException e) {
                rollback.fail(r, requestId, "write-env-file", e.getMessage(), e.replaced() ? policy : null, original);
                return;
            } finally {
                Arrays.fill(content, (byte) 0);
            }
            StageSteps appSteps = new StageSteps(clock).shownLive(live, r.id)
                    .add("write-env-file", StepStatus.DONE, "fingerprint=" + written.fingerprint());
            if (policy.app().isPresent() && r.kind != RotationKind.INITIAL
                    && !restarter.restartAndCheck(policy.app().get(), AppRestarter.Occasion.ROTATION, appSteps).ok()) {
                rollback.rollBack(r, requestId, policy, appSteps, original);
                return;
            }
            try {
                promote(r, requestId, policy, written, EnvFileService.versions(values), appSteps);
            } catch (StageImpossible e) {
                rollback.fail(r, requestId, "promote", e.getMessage(), policy, original);
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
            rollback.fail(r, requestId, "write-env-file", "not replaced: could not keep a copy of the file the import would "
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

    /** A stage that cannot be done with the versions as they are: the rotation ends FAILED. */
    static final class StageImpossible extends RuntimeException {
        StageImpossible(String message) {
            super(message, null, false, false);
        }
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

    /**
     * The last stage, one commit with its event: the new (or, for a ROLLBACK, the PREVIOUS) version becomes
     * CURRENT, the old CURRENT PREVIOUS (or RETIRED), the steps made since RUNNING are journaled and the file's
     * write is recorded. {@link StageImpossible} if the version to promote is gone.
     */
    private void promote(RotationEntity r, String requestId, EnvironmentPolicy policy, EnvFileWriter.WriteResult written,
                         String secretVersions, StageSteps appSteps) {
        String action = r.kind == RotationKind.ROLLBACK ? "rotation.rollback" : "rotation.complete";
        journal.commit(r.id, "promote", new Unit<>(() -> {
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
            return journal.draft(r, requestId, action, Outcome.SUCCESS, d);
        }, null));
    }
}
