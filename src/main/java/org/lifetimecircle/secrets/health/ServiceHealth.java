package org.lifetimecircle.secrets.health;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.crypto.MasterKeys;
import org.lifetimecircle.secrets.ha.Leadership;
import org.lifetimecircle.secrets.policy.EnvironmentRegistry;
import org.lifetimecircle.secrets.startup.StartupSequence;

/**
 * Whether the service can do its job: started, database answering and taking writes, master key
 * loaded, policies loaded; on a standby of a shared store, whether it could take over. Feeds both {@code /q/health/ready} and the contract's {@code /health}.
 */
@ApplicationScoped
public class ServiceHealth {

    private static final Logger LOG = Logger.getLogger(ServiceHealth.class);
    // Reasons reach unauthenticated callers: SQLite's own words, but never anything that looks like code.
    private static final Pattern CODE_LIKE = Pattern.compile("java\\.|\\b[A-Z]\\w*(Exception|Error)\\b|\\bat [a-z]");

    private final AgroalDataSource dataSource;
    private final MasterKeys masterKeys;
    private final EnvironmentRegistry environments;
    private final StartupSequence startup;
    private final Leadership leadership;
    private final Clock clock;
    private volatile boolean writesRefused;
    // One write probe at a time: callers that queued behind a probe which began after they arrived share
    // its answer, so a burst of unauthenticated /health calls cannot turn into a burst of durable commits.
    private final ReentrantLock probing = new ReentrantLock();
    private static final long PROBE_REUSE_NANOS = 1_000_000_000L;
    private static final long PROBE_WAIT_MILLIS = 2_000;
    private volatile Check lastProbe;
    private volatile long lastProbeStarted;

    ServiceHealth(AgroalDataSource dataSource, MasterKeys masterKeys, EnvironmentRegistry environments,
                  StartupSequence startup, Leadership leadership, Clock clock) {
        this.leadership = leadership;
        this.dataSource = dataSource;
        this.masterKeys = masterKeys;
        this.environments = environments;
        this.startup = startup;
        this.clock = clock;
    }

    /** One named check, whether it passed, and if not why (in words; null when it passed). */
    public record Check(String name, boolean up, String reason) {
        static Check of(String name, boolean up, String whyNot) {
            return new Check(name, up, up ? null : whyNot);
        }
    }

    /** This instance's role on a shared store ({@code active} on SQLite). */
    public Leadership.Role role() {
        return leadership.role();
    }

    /** Runs every check now. */
    public List<Check> checks() {
        if (leadership.role() == Leadership.Role.STANDBY) {
            // A standby has done the start's common part and writes nothing, not even the probe row: it is
            // healthy when it could take over (database answering, master key and policies loaded).
            return List.of(
                    Check.of("started", startup.prepared(), "the service has not finished starting"),
                    Check.of("database", databaseAnswers(), "the database does not answer"),
                    Check.of("master-key", masterKeys.usable(), "the master key is not loaded"),
                    Check.of("policies", environments.loaded(), "the policies are not loaded"));
        }
        boolean started = startup.started();
        return List.of(
                Check.of("started", started, "the service has not finished starting"),
                Check.of("database", databaseAnswers(), "the database does not answer"),
                // Before the start has migrated the schema there is nothing to write to yet.
                started ? databaseWrites() : Check.of("database-writes", false, "the service has not finished starting"),
                Check.of("master-key", masterKeys.usable(), "the master key is not loaded"),
                Check.of("policies", environments.loaded(), "the policies are not loaded"));
    }

    private boolean databaseAnswers() {
        try (Connection c = dataSource.getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select 1")) {
            return rs.next();
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Commits one small durable write. "select 1" answers while the disk refuses every write, and then
     * every request fails for want of its audit event: the service is down and must say so.
     */
    private Check databaseWrites() {
        long arrived = System.nanoTime();
        Check recent = lastProbe;
        // At most one durable probe per PROBE_REUSE_NANOS whatever the rate of unauthenticated /health calls, and
        // nobody waits long behind a slow one: the single audit writer must not compete with a health flood.
        if (recent != null && arrived - lastProbeStarted < PROBE_REUSE_NANOS) {
            return recent;
        }
        boolean locked;
        try {
            locked = probing.tryLock(PROBE_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            return recent != null ? recent : Check.of("database-writes", false, "a write probe is still running");
        }
        try {
            if (lastProbe != null && lastProbeStarted - arrived >= 0) {
                return lastProbe;
            }
            lastProbeStarted = System.nanoTime();
            lastProbe = probeWrite();
            return lastProbe;
        } finally {
            probing.unlock();
        }
    }

    // An upsert both stores accept.
    private static final String PROBE = "insert into health_probe (id, written_at) values (1, ?) "
            + "on conflict (id) do update set written_at = excluded.written_at";

    private Check probeWrite() {
        String failure = null;
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(PROBE)) {
            s.setLong(1, clock.millis());
            s.executeUpdate();
        } catch (SQLException e) {
            failure = inWords(e);
        }
        if (failure != null) {
            if (!writesRefused) {
                LOG.errorf("health: the database refuses writes (%s); reporting DOWN until a write succeeds", failure);
            }
            writesRefused = true;
            // A connection SQLite opened while the file was read-only stays read-only: open new ones,
            // or the health check would stay DOWN after the fault cleared (as AuditWriter does for its writes).
            try {
                dataSource.flush(AgroalDataSource.FlushMode.GRACEFUL);
            } catch (RuntimeException e) {
                LOG.errorf("health: could not renew the database connections");
            }
            return Check.of("database-writes", false, "the database refuses writes: " + failure);
        }
        if (writesRefused) {
            LOG.infof("health: the database takes writes again");
            writesRefused = false;
        }
        return Check.of("database-writes", true, null);
    }

    /** SQLite's message (e.g. "[SQLITE_READONLY] Attempt to write a readonly database (…)"), or a plain phrase. */
    static String inWords(SQLException e) {
        String message = e.getMessage();
        if (message == null || message.isBlank() || CODE_LIKE.matcher(message).find()) {
            return "write failed";
        }
        message = message.strip().replaceAll("\\s+", " ");
        return message.length() > 200 ? message.substring(0, 200) + "…" : message;
    }
}
