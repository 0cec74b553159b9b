package org.lifetimecircle.secrets.rotation;

import static org.lifetimecircle.secrets.rotation.StageJournal.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.lifetimecircle.secrets.access.GrantService;
import org.lifetimecircle.secrets.alert.Alerts;
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
import org.lifetimecircle.secrets.secret.CurrentValues;

/**
 * An EMERGENCY job, the procedure's second part ({@link EmergencyService} did the first, atomic one). Never rolled
 * back: a failure ends it FAILED with the revoked values and grants still revoked, and a crash resumes it at the next
 * start, even from RUNNING.
 */
@ApplicationScoped
class EmergencyRun {

    private final StageJournal journal;
    private final RotationRepository rotations;
    private final CurrentValues currentValues;
    private final EnvFileService files;
    private final EnvFileStates states;
    private final AppRestarter restarter;
    private final GrantService grants;
    private final Alerts alerts;
    private final LiveSteps live;
    private final Clock clock;

    EmergencyRun(StageJournal journal, RotationRepository rotations, CurrentValues currentValues, EnvFileService files,
                 EnvFileStates states, AppRestarter restarter, GrantService grants, Alerts alerts, LiveSteps live,
                 Clock clock) {
        this.journal = journal;
        this.rotations = rotations;
        this.currentValues = currentValues;
        this.files = files;
        this.states = states;
        this.restarter = restarter;
        this.grants = grants;
        this.alerts = alerts;
        this.live = live;
        this.clock = clock;
    }

    /**
     * The emergency's second part, after its versions and the other principals' grants were revoked
     * and its new versions promoted: write the env file, restart and check the app, finish and alert.
     * A failure here ends it FAILED; the revoked values and grants stay revoked.
     */
    void run(RotationEntity r, String requestId, EnvironmentPolicy policy) {
        ReentrantLock lock = files.lock(r.environment);
        lock.lock();
        try {
            journal.markRunning(r, requestId, null);
            StageSteps steps = new StageSteps(clock).shownLive(live, r.id);
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
            journal.commit(r.id, "finish", new Unit<>(() -> {
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
                return journal.draft(r, requestId, "emergency.complete", completed ? Outcome.SUCCESS : Outcome.FAILED, d);
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
}
