package org.lifetimecircle.secrets.audit;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.hibernate.Session;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.crypto.InstallationKeys;

/**
 * Signs checkpoints of the chain head: on demand, periodically when the head moved, and at
 * shutdown. A checkpoint is made inside a writer unit and covers every event before that unit's
 * own {@code audit.checkpoint} event, which names the seq and hash it signed.
 */
@ApplicationScoped
public class Checkpoints {

    private static final Logger LOG = Logger.getLogger(Checkpoints.class);

    private final AuditWriter writer;
    private final InstallationKeys keys;
    private final EntityManager em;
    private final AgroalDataSource dataSource;
    private final Clock clock;

    Checkpoints(AuditWriter writer, InstallationKeys keys, EntityManager em, AgroalDataSource dataSource, Clock clock) {
        this.writer = writer;
        this.keys = keys;
        this.em = em;
        this.dataSource = dataSource;
        this.clock = clock;
    }

    /** Signs the head now (if it moved since the last checkpoint) and records who asked. */
    public Checkpoint checkpoint(AuditDraft request) {
        return writer.submit(new Unit<>(this::signHeadInWriter,
                cp -> request.withOutcome(Outcome.SUCCESS, details(cp)),
                e -> request.withOutcome(Outcome.FAILED, AuditService.failureDetails(e))));
    }

    /** Periodic checkpoint, only when events were added since the last one. */
    @Scheduled(every = "${ltc-secrets.audit.checkpoint-every:PT1H}", delayed = "${ltc-secrets.audit.checkpoint-every:PT1H}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void periodic() {
        // The writer runs only on the active instance (a standby on a shared store has none): nothing to sign.
        if (!writer.running()) {
            return;
        }
        checkpointIfMoved(Actors.SCHEDULER);
    }

    /** Last act before the writer stops: sign what was written in this run. */
    void onShutdown(@Observes @Priority(10) ShutdownEvent event) {
        try {
            checkpointIfMoved(Actors.SYSTEM);
        } catch (RuntimeException e) {
            LOG.errorf("shutdown checkpoint failed: %s", e.getClass().getSimpleName());
        } finally {
            writer.stop();
        }
    }

    private void checkpointIfMoved(String actor) {
        ChainHead head = writer.head();
        Optional<Checkpoint> last = latest();
        // The previous checkpoint's own event is always the head after it; anything beyond is new.
        if (head.seq() == 0 || (last.isPresent() && head.seq() <= last.get().seq() + 1)) {
            return;
        }
        checkpoint(AuditDraft.by(actor).action("audit.checkpoint"));
    }

    /** The most recent committed checkpoint. */
    public Optional<Checkpoint> latest() {
        try (Connection c = dataSource.getConnection()) {
            return latest(c);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read checkpoints", e);
        }
    }

    private static Optional<Checkpoint> latest(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select seq, hash, signed_at, message, signature, public_key "
                + "from audit_checkpoint order by id desc limit 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(row(rs)) : Optional.empty();
        }
    }

    static Checkpoint row(ResultSet rs) throws SQLException {
        return new Checkpoint(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Base64.getEncoder().encodeToString(rs.getBytes(5)), rs.getString(6));
    }

    /** Runs on the writer thread inside its transaction: the head is the writer's current one. */
    private Checkpoint signHeadInWriter() {
        ChainHead head = writer.head();
        Optional<Checkpoint> last = em.unwrap(Session.class).doReturningWork(Checkpoints::latest);
        if (last.isPresent() && last.get().seq() == head.seq()) {
            return last.get();
        }
        String signedAt = ChainHash.time(clock.instant());
        String message = Checkpoint.message(head.seq(), head.hash(), signedAt);
        byte[] signature = keys.signer().sign(message.getBytes(StandardCharsets.UTF_8));
        String pem = keys.signer().publicKeyPem();
        em.unwrap(Session.class).doWork(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into audit_checkpoint "
                    + "(seq, hash, signed_at, message, signature, public_key) values (?, ?, ?, ?, ?, ?)")) {
                ps.setLong(1, head.seq());
                ps.setString(2, head.hash());
                ps.setString(3, signedAt);
                ps.setString(4, message);
                ps.setBytes(5, signature);
                ps.setString(6, pem);
                ps.executeUpdate();
            }
        });
        return new Checkpoint(head.seq(), head.hash(), signedAt, message, Base64.getEncoder().encodeToString(signature), pem);
    }

    private static Map<String, Object> details(Checkpoint cp) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("seq", cp.seq());
        d.put("hash", cp.hash());
        d.put("signedAt", cp.signedAt());
        return d;
    }
}
