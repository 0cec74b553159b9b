package org.lifetimecircle.secrets.rotation;

import static org.lifetimecircle.secrets.rotation.StageJournal.read;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.policy.EnvironmentPolicy;

/**
 * Runs rotation jobs in the background (two threads; one job per rotation in this process) and hands each to
 * the class that knows its kind. The map of the rotation package's jobs:
 * <ul>
 * <li>{@link RotationRun}: a ROTATION, IMPORT or ROLLBACK, one journaled commit per stage: mark RUNNING, write
 *   the env file (outside any transaction, under the environment's lock), restart the app and check its health
 *   when the policy has an {@code app} section ({@link AppRestarter#restartAndCheck}), then promote and finish in
 *   one commit with its audit event.</li>
 * <li>{@link RotationRollback}: how such a job ends when it does not go through. If the file cannot be written,
 *   the staged version is retired, the rotation FAILED, and the CURRENT version and the file on disk stay as they
 *   were; if the app does not come back healthy, the old file is put back (the hand-made file an import replaced,
 *   else the CURRENT versions' through {@code EnvFileSync}), the app restarted again and the rotation ends
 *   ROLLED_BACK.</li>
 * <li>{@link EmergencyRun}: an EMERGENCY's second part, after {@link EmergencyService} revoked and promoted in
 *   one commit: write the file, restart and check, finish. Never rolled back.</li>
 * <li>{@link StageJournal}: every stage's commit with its event, retried while the database refuses writes;
 *   {@link StageSteps}: the steps made outside the writer, recorded with the commit that ends the stage.</li>
 * <li>{@link RotationStartup}: after a crash, RUNNING rotations (but emergencies) are rolled back with the file put
 *   back; PENDING ones and emergencies are scheduled here again.</li>
 * </ul>
 * Invariants: an environment's file is only written under its lock ({@code EnvFileService#lock}), so a job, a
 * write request, the drift check and the grace's end never interleave; a stage's state change, its journal steps
 * and its audit event are one commit, so a crash leaves a rotation PENDING or RUNNING as of its last stage, never
 * half-promoted; the CURRENT version changes only in the promote commit, after the file carrying it was written
 * and checked.
 */
@ApplicationScoped
public class RotationEngine {

    private static final Logger LOG = Logger.getLogger(RotationEngine.class);

    private final RotationRepository rotations;
    private final EnvironmentRegistry environments;
    private final RotationRun rotationRun;
    private final EmergencyRun emergencyRun;
    private final StageJournal journal;
    private final LiveSteps live;
    private final AtomicInteger threadCount = new AtomicInteger();
    /** Rotations with a job in this process, queued or running. */
    private final Set<String> withJob = ConcurrentHashMap.newKeySet();
    private final ExecutorService jobs = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "rotation-job-" + threadCount.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    RotationEngine(RotationRepository rotations, EnvironmentRegistry environments, RotationRun rotationRun,
                   EmergencyRun emergencyRun, StageJournal journal, LiveSteps live) {
        this.rotations = rotations;
        this.environments = environments;
        this.rotationRun = rotationRun;
        this.emergencyRun = emergencyRun;
        this.journal = journal;
        this.live = live;
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
                    stopped(rotationId, e);
                } finally {
                    live.forget(rotationId);
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
        journal.stopWaiting();
        jobs.shutdown();
        try {
            jobs.awaitTermination(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A job that stopped on an exception. If its rotation is finished meanwhile, another ended it (an emergency
     * pre-empts the running rotations of its environment): that is the procedure working, not an error. Otherwise
     * it is left PENDING or RUNNING and recovered at the next start. Ids only in the log.
     */
    private void stopped(String rotationId, RuntimeException e) {
        RotationEntity now;
        try {
            now = read(() -> rotations.findById(rotationId));
        } catch (RuntimeException unreadable) {
            now = null;
        }
        if (now != null && now.status.finished()) {
            LOG.infof("rotation %s: its job stopped because the rotation was ended meanwhile (%s; an emergency "
                    + "pre-empts running rotations)", rotationId, now.status);
        } else {
            LOG.errorf("rotation %s stopped: %s", rotationId, e.getClass().getSimpleName());
        }
    }

    void run(String rotationId, String requestId) {
        RotationEntity r = read(() -> rotations.findById(rotationId));
        if (r == null || r.status.finished()) {
            return;
        }
        EnvironmentPolicy policy = environments.find(r.environment).orElse(null);
        if (r.kind == RotationKind.EMERGENCY) {
            emergencyRun.run(r, requestId, policy);
        } else {
            rotationRun.run(r, requestId, policy);
        }
    }
}
