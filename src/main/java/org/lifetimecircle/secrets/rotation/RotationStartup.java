package org.lifetimecircle.secrets.rotation;

import static org.lifetimecircle.secrets.db.ReadTransaction.read;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.crypto.SecretGenerator;
import org.lifetimecircle.secrets.crypto.SecretValue;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
import org.lifetimecircle.secrets.envfile.EnvFileWriteException;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.SecretPolicy;
import org.lifetimecircle.secrets.secret.SecretVersionEntity;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * What runs at start, in this order: leftover temporary files removed; an INITIAL version 1 for
 * every secret without one; every env file brought in line with its CURRENT versions ({@link EnvFileSync}, never
 * overwriting a file this service did not write: that is reported as a conflict), except where a
 * crash interrupted a rotation mid-way (RUNNING): there the file is put back, the app restarted and
 * checked, and the rotation rolled back with those steps in its journal; then rotations that never
 * started (PENDING) resumed.
 */
@ApplicationScoped
public class RotationStartup {

    private static final Logger LOG = Logger.getLogger(RotationStartup.class);

    private final AuditWriter writer;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final RotationService service;
    private final RotationEngine engine;
    private final EnvFileService files;
    private final EnvFileSync fileSync;
    private final EnvironmentRegistry environments;
    private final AppRestarter restarter;
    private final Alerts alerts;
    private final ImportBackups backups;
    private final Clock clock;

    RotationStartup(AuditWriter writer, RotationRepository rotations, SecretVersionRepository versions,
                    RotationService service, RotationEngine engine, EnvFileService files, EnvFileSync fileSync,
                    EnvironmentRegistry environments, AppRestarter restarter, Alerts alerts, ImportBackups backups,
                    Clock clock) {
        this.restarter = restarter;
        this.backups = backups;
        this.alerts = alerts;
        this.writer = writer;
        this.rotations = rotations;
        this.versions = versions;
        this.service = service;
        this.engine = engine;
        this.files = files;
        this.fileSync = fileSync;
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
        Map<String, List<RotationEntity>> interrupted = new LinkedHashMap<>();
        for (RotationEntity r : unfinished) {
            if (r.status == RotationStatus.RUNNING && r.kind != RotationKind.EMERGENCY) {
                interrupted.computeIfAbsent(r.environment, e -> new ArrayList<>()).add(r);
            }
        }
        for (EnvironmentPolicy p : environments.all()) {
            for (SecretPolicy s : p.secrets().values()) {
                if (!read(() -> versions.any(p.environment(), s.name()))) {
                    initial(p, s);
                }
            }
            List<RotationEntity> recovered = interrupted.remove(p.environment());
            if (recovered == null) {
                fileSync.sync(p, "start: the file was missing or out of date", Actors.SYSTEM);
            } else {
                recover(p, recovered);
            }
        }
        // Environments no longer in the policies: no file to put back, no app to restart.
        interrupted.values().forEach(list -> list.forEach(r -> rollBackInterrupted(r,
                new StageSteps(clock).add("recover", StepStatus.DONE, "interrupted by a restart; rolled back to the CURRENT version; the "
                        + "environment is no longer in the policies"))));
        forgetEndedImportBackups();
        for (RotationEntity r : unfinished) {
            // An emergency is resumed even from RUNNING: its values are already revoked, never rolled back.
            if (r.status == RotationStatus.PENDING || r.kind == RotationKind.EMERGENCY) {
                LOG.infof("rotation %s of %s/%s was accepted before the restart; resuming it", r.id, r.environment,
                        r.secret);
                engine.schedule(r.id, null);
            }
        }
    }

    /**
     * RUNNING rotations a crash interrupted may have replaced the file but not promoted: put the file back
     * (the hand-made file an import replaced, from the copy it kept; else the CURRENT versions' file),
     * restart the app on it and check it, then end them ROLLED_BACK with each of those steps journaled.
     * Until that commit they stay RUNNING, so a crash during recovery is recovered again at the next start.
     */
    private void recover(EnvironmentPolicy p, List<RotationEntity> interrupted) {
        StageSteps steps = new StageSteps(clock);
        for (RotationEntity r : interrupted) {
            interruptedWrite(p, r, steps);
        }
        steps.add("recover", StepStatus.DONE, "interrupted by a restart; rolled back to the CURRENT version");
        Optional<byte[]> kept = Optional.empty();
        for (RotationEntity r : interrupted) {
            kept = kept.isPresent() ? kept : backups.find(r.id);
        }
        if (kept.isPresent()) {
            putBackImported(p, kept.get(), steps);
        } else {
            try {
                EnvFileSync.Synced synced = fileSync.bringUpToDate(p, "recovery: a rotation was interrupted by a restart",
                        Actors.SYSTEM);
                switch (synced.result()) {
                    case WRITTEN -> steps.add("restore-env-file", StepStatus.DONE, "the CURRENT version's file is back ("
                            + synced.detail() + ")");
                    case AS_RENDERED -> steps.add("restore-env-file", StepStatus.DONE, "the file on disk was "
                            + synced.detail() + ", not replaced");
                    case LEFT_ALONE, NO_CURRENT -> steps.add("restore-env-file", StepStatus.SKIPPED, synced.detail());
                }
            } catch (EnvFileWriteException e) {
                LOG.errorf("environment %s: cannot write the env file: %s", p.environment(), e.getMessage());
                steps.add("restore-env-file", StepStatus.FAILED, e.getMessage());
            }
        }
        if (p.app().isPresent()) {
            // The app may have been restarted with the rolled-back file: restart it on the restored one.
            AppRestarter.Outcome healthy = restarter.restartAndCheck(p.app().get(), AppRestarter.Occasion.RECOVERY,
                    steps);
            if (healthy.ok()) {
                LOG.infof("environment %s: app restarted on the recovered env file (%s)", p.environment(),
                        healthy.detail());
            } else {
                alerts.raise("recovery.app-unhealthy", p.environment(), "after recovering an interrupted rotation "
                        + "the app did not come back healthy: " + healthy.detail(), Map.of());
            }
        }
        for (RotationEntity r : interrupted) {
            rollBackInterrupted(r, steps);
            forgetIfSettled(r.id, p);
        }
    }

    /**
     * The interrupted job's own file write, if it happened: the job journals it only with its last commit,
     * so it is read off the disk instead (the file this service wrote, its header naming the rotation's
     * version). The header holds names and versions only.
     */
    private void interruptedWrite(EnvironmentPolicy p, RotationEntity r, StageSteps steps) {
        if (r.secret == null || r.toVersion == null || !files.absentOrOurs(p)) {
            return;
        }
        byte[] content = files.readExisting(p);
        if (content == null) {
            return;
        }
        try {
            int end = 0;
            while (end < content.length && content[end] != '\n') {
                end++;
            }
            String header = new String(content, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
            for (String token : header.split(" ")) {
                if (token.startsWith("version=")
                        && Arrays.asList(token.substring("version=".length()).split(",")).contains(r.secret + ":" + r.toVersion)) {
                    steps.add("write-env-file", StepStatus.DONE, "by the interrupted job, found at recovery: the "
                            + "file on disk carried version " + r.toVersion + " (fingerprint=" + files.fingerprint(content)
                            + ")");
                    return;
                }
            }
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /** Puts back the hand-made file an interrupted import replaced, from the copy it kept (zeroed after). */
    private void putBackImported(EnvironmentPolicy p, byte[] original, StageSteps steps) {
        ReentrantLock lock = files.lock(p.environment());
        lock.lock();
        byte[] onDisk = null;
        try {
            onDisk = files.absentOrOurs(p) ? null : files.readExisting(p);
            if (onDisk != null && Arrays.equals(onDisk, original)) {
                steps.add("restore-env-file", StepStatus.DONE, "the file the import would have replaced is still there");
                return;
            }
            if (onDisk != null) {
                // Someone put another file there since the crash: theirs is not overwritten, the copy stays.
                steps.add("restore-env-file", StepStatus.SKIPPED, "another file someone else wrote is in place: left alone; "
                        + "the import's copy stays in the data directory (" + ImportBackups.DIRECTORY + "/)");
                return;
            }
            files.write(p, original);
            steps.add("restore-env-file", StepStatus.DONE, "the file that was there before the import is back");
        } catch (EnvFileWriteException e) {
            LOG.errorf("environment %s: could not put back the file the import replaced: %s", p.environment(),
                    e.getMessage());
            steps.add("restore-env-file", StepStatus.FAILED, e.getMessage());
        } finally {
            Arrays.fill(original, (byte) 0);
            if (onDisk != null) {
                Arrays.fill(onDisk, (byte) 0);
            }
            lock.unlock();
        }
    }

    /** Removes the copies of imports that have ended (a crash came between their end and the removal). */
    private void forgetEndedImportBackups() {
        for (String id : backups.rotationIds()) {
            RotationEntity r = read(() -> rotations.findById(id));
            if (r == null) {
                backups.delete(id);
            } else if (r.status.finished()) {
                forgetIfSettled(id, environments.find(r.environment).orElse(null));
            }
        }
    }

    /** Removes an ended import's copy unless the hand-made file is not back (ImportBackups#forgetIfSettled). */
    private void forgetIfSettled(String rotationId, EnvironmentPolicy p) {
        RotationEntity r = read(() -> rotations.findById(rotationId));
        if (r == null || p == null) {
            backups.delete(rotationId); // nothing to put it back into: its environment is gone
            return;
        }
        byte[] onDisk = files.absentOrOurs(p) ? null : files.readExisting(p);
        try {
            backups.forgetIfSettled(rotationId, r.status, onDisk);
        } finally {
            if (onDisk != null) {
                Arrays.fill(onDisk, (byte) 0);
            }
        }
    }

    private void rollBackInterrupted(RotationEntity r, StageSteps steps) {
        writer.submit(new Unit<>(() -> {
            Instant now = Clocks.now(clock);
            RotationEntity row = rotations.findById(r.id);
            if (row.kind != RotationKind.ROLLBACK) {
                versions.inState(row.environment, row.secret, VersionState.PENDING)
                        .ifPresent(v -> v.end(VersionState.RETIRED, now));
            }
            steps.persist(row.id);
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
            r.requestedBy = Actors.SYSTEM;
            r.reason = "first start: the secret had no version";
            r.requestedAt = now;
            r.finishedAt = now;
            rotations.persist(r);
            try (SecretValue value = SecretGenerator.generate(s.alphabet(), s.length())) {
                SecretVersionEntity v = service.stageVersion(p.environment(), s.name(), 1, value, id, now);
                v.state = VersionState.CURRENT;
                v.promotedAt = now;
            }
            RotationStepEntity.of(id, "generate", StepStatus.DONE, now, null).persist();
            RotationStepEntity.of(id, "store", StepStatus.DONE, now, "version 1").persist();
            RotationStepEntity.of(id, "promote", StepStatus.DONE, now, "version 1 is CURRENT; the env file follows").persist();
            RotationStepEntity.of(id, "finish", StepStatus.DONE, now, null).persist();
            return null;
        }, x -> system("rotation.complete", p.environment(), s.name(),
                Map.of("rotationId", id, "kind", "INITIAL", "toVersion", 1)), null));
        LOG.infof("environment %s: created version 1 of %s (INITIAL rotation %s)", p.environment(), s.name(), id);
    }

    private static AuditDraft system(String action, String environment, String target, Map<String, Object> details) {
        return AuditDraft.by(Actors.SYSTEM).action(action).environment(environment).target(target).details(details);
    }

}
