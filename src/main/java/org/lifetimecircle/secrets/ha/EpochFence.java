package org.lifetimecircle.secrets.ha;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jboss.logging.Logger;
import org.lifetimecircle.secrets.audit.CommitFence;
import org.lifetimecircle.secrets.db.Store;

/**
 * The audit writer's {@link CommitFence} on a shared PostgreSQL store: a commit goes through only while the
 * {@code ha_epoch} row still holds the epoch this instance took over with. The check is the transaction's first
 * statement and locks the row FOR SHARE until the commit, so:
 * <ul>
 *   <li>a commit that checked before a take-over finishes before the take-over's increment (which waits for the
 *   share lock): it lands in the old epoch, and the new active reads the chain's head after it;</li>
 *   <li>a commit that checks after the increment sees another epoch (or, with its snapshot taken earlier, a
 *   serialization failure) and is refused, and this instance fences itself: it refuses every later commit and
 *   the process ends ({@link Fencing}).</li>
 * </ul>
 * Without an epoch (a standby, or before the take-over) every commit is refused. On SQLite there is one
 * instance: nothing to check.
 */
@ApplicationScoped
public class EpochFence implements CommitFence {

    private static final Logger LOG = Logger.getLogger(EpochFence.class);
    /** SQLSTATE serialization_failure: the row changed after this transaction's snapshot. */
    private static final String SERIALIZATION_FAILURE = "40001";
    /**
     * A writer transaction that stops hearing from this instance (network cut) must not hold the row's share
     * lock, and with it a take-over, for longer than this; its statements take milliseconds.
     */
    static final String IDLE_IN_TRANSACTION = "set local idle_in_transaction_session_timeout = 5000";

    private final boolean shared;
    private final Consumer<String> onFenced;
    private final AtomicBoolean fenced = new AtomicBoolean();
    private volatile long epoch;

    @Inject
    EpochFence(Store store) {
        this(store.kind() == Store.Kind.POSTGRESQL, Fencing::halt);
    }

    /** {@code onFenced} is told once, with the reason, when this instance fences itself (tests record it). */
    EpochFence(boolean sharedStore, Consumer<String> onFenced) {
        this.shared = sharedStore;
        this.onFenced = onFenced;
    }

    /** From now on commits go through while the row holds {@code epoch} (set once this instance took over). */
    void activate(long newEpoch) {
        epoch = newEpoch;
    }

    /** The epoch this instance took over with; 0 if it has not. */
    long epoch() {
        return epoch;
    }

    boolean fenced() {
        return fenced.get();
    }

    @Override
    public void check(Connection c) throws SQLException {
        if (!shared) {
            return;
        }
        long mine = epoch;
        if (fenced.get() || mine == 0) {
            throw new SQLException("this instance is not the active one; nothing is committed");
        }
        try (Statement st = c.createStatement()) {
            st.execute(IDLE_IN_TRANSACTION);
        }
        long current;
        try (PreparedStatement ps = c.prepareStatement(HaEpoch.CHECK);
             ResultSet rs = ps.executeQuery()) {
            current = rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            if (SERIALIZATION_FAILURE.equals(e.getSQLState())) {
                fence("another instance took over (the epoch changed during this commit)");
            }
            throw e;
        }
        if (current != mine) {
            fence("another instance took over (epoch " + current + ", this instance's " + mine + ")");
            throw new SQLException("fenced: another instance is active; nothing is committed");
        }
    }

    /** Refuses every later commit, and tells {@code onFenced} once. */
    void fence(String why) {
        if (fenced.compareAndSet(false, true)) {
            LOG.debugf("fenced: %s", why);
            onFenced.accept(why);
        }
    }
}
