package org.lifetimecircle.secrets.scheduler;

import org.lifetimecircle.secrets.approval.ApprovalService;
import org.lifetimecircle.secrets.rotation.IncidentReviews;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduler;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.AuditArchiver;
import org.lifetimecircle.secrets.ha.Leadership;
import org.lifetimecircle.secrets.rotation.PreviousRetirement;
import org.lifetimecircle.secrets.rotation.RotationEngine;
import org.lifetimecircle.secrets.startup.StartupSequence;

/**
 * The scheduler: every {@code ltc-secrets.scheduler.check-every} it starts a job for any PENDING rotation
 * that has none (its request committed after its caller was answered 503), records due-state changes and acts
 * on overdue secrets, ends PREVIOUS versions' grace, checks env files for drift, records expired
 * grants and tokens and lapsed approval requests, alerts emergencies unreviewed for a day, and (with {@code ltc-secrets.audit.retention}) archives audit events older than the
 * retention, in that order, at one instant from the injected {@link Clock}. Only the active instance runs it
 * ({@link Leadership}, a shared PostgreSQL store); runs never overlap;
 * a step that fails is logged and the others still run (the run then counts as failed in the metrics).
 * Audit checkpoints are signed by their own schedule ({@code ltc-secrets.audit.checkpoint-every}).
 */
@ApplicationScoped
public class Housekeeping {

    private static final Logger LOG = Logger.getLogger(Housekeeping.class);

    /** What one run did, for tests and the debug log. */
    public record Report(Instant at, int dueStateChanges, int retired, int drifts, int expiries, long archived,
                         boolean success) {
    }

    /** How long a PENDING rotation may wait for the job its request starts before the scheduler starts one. */
    static final Duration ORPHAN_GRACE = Duration.ofMinutes(1);

    private final DueStates dueStates;
    private final PreviousRetirement retirement;
    private final DriftCheck drift;
    private final Expiries expiries;
    private final AuditArchiver archiver;
    private final SchedulerMetrics metrics;
    private final StartupSequence startup;
    private final Leadership leadership;
    private final RotationEngine engine;
    private final Clock clock;
    private final ReentrantLock running = new ReentrantLock();
    private final Scheduler scheduler;
    /** Set when the service stops: no run starts after it (see {@link #onShutdown}). */
    private volatile boolean stopping;
    private final ApprovalService approvals;
    private final IncidentReviews reviews;

    Housekeeping(DueStates dueStates, PreviousRetirement retirement, DriftCheck drift, Expiries expiries,
                 AuditArchiver archiver, SchedulerMetrics metrics, StartupSequence startup, Leadership leadership,
                 RotationEngine engine, Clock clock, ApprovalService approvals, IncidentReviews reviews,
                 Scheduler scheduler) {
        this.scheduler = scheduler;
        this.approvals = approvals;
        this.reviews = reviews;
        this.leadership = leadership;
        this.engine = engine;
        this.archiver = archiver;
        this.dueStates = dueStates;
        this.retirement = retirement;
        this.drift = drift;
        this.expiries = expiries;
        this.metrics = metrics;
        this.startup = startup;
        this.clock = clock;
    }

    @Scheduled(every = "${ltc-secrets.scheduler.check-every:60s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        // Only the active instance runs jobs: a standby's tick does nothing (two actives never run at once).
        if (!stopping && leadership.serving() && startup.started() && running.tryLock()) {
            try {
                // Again under the lock: a tick that passed the check above while onShutdown took the lock
                // gets it only after the shutdown began.
                if (!stopping) {
                    runLocked(clock.instant());
                }
            } finally {
                running.unlock();
            }
        }
    }

    /**
     * First of the shutdown observers (the rotation engine stops at 5, the audit writer at 10): a run under way
     * finishes while they still work, and no tick starts one after. Before, a tick between the writer's stop and
     * the scheduler's own logged every step as failed at ERROR on each graceful stop (found by drills/soak.sh,
     * whose scheduler runs every second).
     */
    void onShutdown(@Observes @Priority(4) ShutdownEvent event) {
        stopping = true;
        // No trigger fires from now on: one that fired during the final teardown failed inside Quarkus' invoker
        // ("No configuration is available", logged at ERROR as "Error Occurred After Shutdown"; drills/soak.sh 2m).
        scheduler.pause();
        running.lock();
        running.unlock();
    }

    /** One run at {@code now}; waits for a run in progress to finish first. */
    public Report run(Instant now) {
        running.lock();
        try {
            return runLocked(now);
        } finally {
            running.unlock();
        }
    }

    private Report runLocked(Instant now) {
        boolean[] ok = {true};
        step("orphaned rotations", ok, () -> engine.resumeOrphaned(now.minus(ORPHAN_GRACE)));
        int changes = step("due states", ok, () -> dueStates.check(now));
        int retired = step("retirement", ok, () -> retirement.retireExpired(now));
        int drifts = step("drift check", ok, () -> drift.check(now));
        int expired = step("expiries", ok, () -> expiries.record(now));
        expired += step("lapsed approvals", ok, () -> approvals.expire(now));
        step("unreviewed emergencies", ok, () -> reviews.alertOverdue(now));
        // Last: everything the steps above recorded is in the chain before the oldest part moves out.
        long archived = step("audit retention", ok, () -> (int) Math.min(Integer.MAX_VALUE, archiver.applyRetention(now)));
        metrics.runFinished(now, ok[0]);
        Report report = new Report(now, changes, retired, drifts, expired, archived, ok[0]);
        LOG.debugf("scheduler run: %s", report);
        return report;
    }

    private static int step(String name, boolean[] ok, java.util.function.IntSupplier work) {
        try {
            return work.getAsInt();
        } catch (RuntimeException e) {
            ok[0] = false;
            // Class name only: a message could carry a path or worse; the step says what failed.
            LOG.errorf("scheduler: %s failed (%s); the other steps ran, the next run tries again", name,
                    e.getClass().getSimpleName());
            return 0;
        }
    }
}
