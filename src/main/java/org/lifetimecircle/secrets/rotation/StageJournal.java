package org.lifetimecircle.secrets.rotation;

import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.db.ReadTransaction;
import org.lifetimecircle.secrets.audit.AuditDraft;
import org.lifetimecircle.secrets.audit.AuditUnavailableException;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.audit.Outcome;
import org.lifetimecircle.secrets.audit.Unit;
import org.lifetimecircle.secrets.config.Clocks;
import org.lifetimecircle.secrets.secret.SecretVersionRepository;
import org.lifetimecircle.secrets.secret.VersionState;

/**
 * How a rotation job records its stages: each stage is one commit through the audit writer with its event
 * ({@link #commit}), retried while the database refuses writes, so a fault in the middle of a rotation delays it
 * instead of stranding it. Also the first stage's commit, which marks the rotation RUNNING ({@link #startUnit}).
 */
@ApplicationScoped
class StageJournal {

    private static final Logger LOG = Logger.getLogger(StageJournal.class);
    /** Pauses between attempts to record a stage while the database refuses writes. */
    private static final long RETRY_FIRST_MILLIS = 200;
    private static final long RETRY_MAX_MILLIS = 5_000;

    private final AuditWriter writer;
    private final RotationRepository rotations;
    private final SecretVersionRepository versions;
    private final Clock clock;
    /** Set at shutdown: stages stop waiting for the database; start-up recovery takes their rotations. */
    private volatile boolean stopping;

    StageJournal(AuditWriter writer, RotationRepository rotations, SecretVersionRepository versions, Clock clock) {
        this.writer = writer;
        this.rotations = rotations;
        this.versions = versions;
        this.clock = clock;
    }

    /** From now on a stage the database refuses fails at once (the service is stopping). */
    void stopWaiting() {
        stopping = true;
    }

    /** Marks the rotation RUNNING (its promotion time set for a ROTATION, IMPORT or ROLLBACK), with its event. */
    void markRunning(RotationEntity r, String requestId, Instant promotedAt) {
        commit(r.id, "start", startUnit(r, requestId, promotedAt));
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
            // Once: commit() submits this again when the writer did not answer in time, though the first
            // submission may have committed after all.
            if (rotations.steps(row.id).stream().noneMatch(s -> s.name.equals("start"))) {
                RotationStepEntity.of(row.id, "start", StepStatus.DONE, now, null).persist();
            }
            return (Void) null;
        }, x -> draft(r, requestId, "rotation.start", Outcome.SUCCESS, Map.of("rotationId", r.id, "kind", r.kind.name())),
                null);
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
    <R> R commit(String rotationId, String stage, Unit<R> unit) {
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

    /** The event of a stage of {@code r}, by whoever requested it. */
    AuditDraft draft(RotationEntity r, String requestId, String action, Outcome outcome,
                     Map<String, Object> details) {
        return AuditDraft.by(r.requestedBy).action(action).environment(r.environment).target(r.secret).outcome(outcome)
                .request(requestId, null).details(details);
    }

    /** Reads in a transaction of its own (the job runs outside any). */
    static <T> T read(Supplier<T> work) {
        return ReadTransaction.read(work);
    }
}
