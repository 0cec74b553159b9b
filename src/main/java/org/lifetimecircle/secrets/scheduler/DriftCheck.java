package org.lifetimecircle.secrets.scheduler;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.Actors;
import org.lifetimecircle.secrets.alert.Alerts;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.envfile.EnvFileService;
import org.lifetimecircle.secrets.envfile.EnvFileStateEntity;
import org.lifetimecircle.secrets.envfile.EnvFileStates;
import org.lifetimecircle.secrets.envfile.EnvFileSync;
import org.lifetimecircle.secrets.envfile.EnvFileWriteException;
import org.lifetimecircle.secrets.policy.DriftAction;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.rotation.EmergencyService;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.Reason;

/**
 * Notices env files changed behind the service's back: the file on disk (type, link, content fingerprint,
 * mode, owner, group) is compared with the record of what was last written. A new difference is
 * audited ({@code envfile.drift}) and alerted once, then handled per {@code envFile.onDrift}:
 * {@code flag} leaves it; {@code repair} rewrites the file from the CURRENT versions (replacing a link,
 * never following it; retried every run until it succeeds); {@code emergency} starts the emergency
 * procedure, which writes a new file. An environment whose file is being written (its lock is held)
 * is skipped this run: the writer records its own result.
 */
@ApplicationScoped
class DriftCheck {

    private static final Logger LOG = Logger.getLogger(DriftCheck.class);

    private final EnvironmentRegistry environments;
    private final EnvFileService files;
    private final EnvFileSync fileSync;
    private final EmergencyService emergencies;
    private final AuditWriter writer;
    private final Alerts alerts;
    private final SchedulerMetrics metrics;
    private final EnvFileStates states;

    DriftCheck(EnvironmentRegistry environments, EnvFileService files, EnvFileSync fileSync,
               EmergencyService emergencies, AuditWriter writer, Alerts alerts, SchedulerMetrics metrics,
               EnvFileStates states) {
        this.environments = environments;
        this.files = files;
        this.fileSync = fileSync;
        this.emergencies = emergencies;
        this.writer = writer;
        this.alerts = alerts;
        this.metrics = metrics;
        this.states = states;
    }

    /** Checks every environment's file; returns how many new drifts were found. */
    int check(Instant now) {
        int found = 0;
        for (EnvironmentPolicy p : environments.all()) {
            ReentrantLock lock = files.lock(p.environment());
            if (!lock.tryLock()) {
                continue;
            }
            try {
                if (check(p, now)) {
                    found++;
                }
            } finally {
                lock.unlock();
            }
        }
        return found;
    }

    private boolean check(EnvironmentPolicy p, Instant now) {
        EnvFileStateEntity last = QuarkusTransaction.requiringNew().call(() -> states.lastWrite(p.environment())
                .orElse(null));
        if (last == null) {
            return false; // never written by this service (a foreign file is reported as a conflict)
        }
        String problem = files.problemWith(p, last.fingerprint, last.bytes);
        if (problem == null) {
            if (last.drift != null) {
                resolved(p, last);
            }
            return false;
        }
        String observed = files.observed(p);
        boolean known = problem.equals(last.drift) && observed.equals(last.driftObserved);
        DriftAction action = p.envFile().onDrift();
        if (!known) {
            record(p, last, problem, observed, action, now);
        }
        switch (action) {
            case FLAG -> {
                // Reported; a person decides.
            }
            case REPAIR -> repair(p, problem, !known);
            case EMERGENCY -> {
                if (!known) {
                    emergency(p, problem);
                }
            }
        }
        return !known;
    }

    private void record(EnvironmentPolicy p, EnvFileStateEntity last, String problem, String observed,
                        DriftAction action, Instant now) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("path", p.envFile().path());
        d.put("problem", "the file " + problem);
        // Keyed: a plain hash of the file would let auditors confirm a guessed value (null for a pre-V13 record).
        d.put("expectedFingerprint", last.keyedFingerprint());
        d.put("expectedMode", p.envFile().mode().octal());
        d.put("onDrift", action.yamlName());
        writer.submit(new Unit<>(() -> {
            states.recordDrift(p.environment(), problem, observed, now);
            return null;
        }, x -> AuditDraft.by(Actors.SCHEDULER).action("envfile.drift").environment(p.environment()).details(d),
                null));
        metrics.driftDetected(p.environment());
        alerts.raise("envfile.drift", p.environment(), p.envFile().path() + ": the file " + problem
                + " (onDrift: " + action.yamlName() + ")", d);
    }

    // The file is as written again (someone undid their change): the drift is over.
    private void resolved(EnvironmentPolicy p, EnvFileStateEntity last) {
        writer.submit(new Unit<>(() -> {
            states.driftOver(p.environment());
            return null;
        }, x -> AuditDraft.by(Actors.SCHEDULER).action("envfile.drift-resolved").environment(p.environment())
                .details(Map.of("path", p.envFile().path(), "was", "the file " + last.drift)), null));
        LOG.infof("environment %s: the env file is as written again", p.environment());
    }

    private void repair(EnvironmentPolicy p, String problem, boolean firstAttempt) {
        try {
            fileSync.repair(p, "onDrift: repair; the file " + problem, Actors.SCHEDULER);
            LOG.warnf("environment %s: env file repaired (the file %s)", p.environment(), problem);
        } catch (EnvFileWriteException e) {
            LOG.errorf("environment %s: cannot repair the env file: %s", p.environment(), e.getMessage());
            if (firstAttempt) {
                alerts.raise("envfile.repair-failed", p.environment(), "the drifted env file could not be repaired: "
                        + e.getMessage() + "; retried every scheduler run", Map.of("path", p.envFile().path()));
            }
        }
    }

    private void emergency(EnvironmentPolicy p, String problem) {
        try {
            emergencies.requestAs(Actors.SCHEDULER, p, new Reason("onDrift: emergency; the env file " + problem));
        } catch (ApiException e) {
            LOG.warnf("environment %s: emergency for drift not started: %s", p.environment(), e.getMessage());
        }
    }
}
