package org.lifetimecircle.secrets.db;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.Arc;
import io.quarkus.arc.InstanceHandle;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.jboss.logging.Logger;

/**
 * Empties the write-ahead log once a ciphertext has been destroyed (a version RETIRED or REVOKED, a
 * re-wrap under a new master key). {@code secure_delete} (set on every connection by the JDBC URL)
 * zeroes the freed cells in the pages written from then on, but the WAL still holds the older frames
 * that carried the value until a checkpoint has copied them into the database file and the log is
 * truncated: {@code PRAGMA wal_checkpoint(TRUNCATE)} does both.
 */
@ApplicationScoped
public class WalTruncation {

    private static final Logger LOG = Logger.getLogger(WalTruncation.class);
    private static final Object REGISTERED = WalTruncation.class.getName();

    private final AgroalDataSource dataSource;
    private final TransactionSynchronizationRegistry transactions;
    private final boolean sqlite;

    WalTruncation(AgroalDataSource dataSource, TransactionSynchronizationRegistry transactions, Store store) {
        // PostgreSQL has no WAL file of ours to truncate: its WAL and dead row versions are the server's
        // (docs/postgresql.md says what that means for destroyed values).
        this.sqlite = store.kind() == Store.Kind.SQLITE;
        this.dataSource = dataSource;
        this.transactions = transactions;
    }

    /**
     * For code that cannot be handed a bean (an entity ending a version): truncates after the current
     * transaction commits; outside a transaction (or before the container runs) nothing.
     */
    public static void afterCommitOfCurrentTransaction() {
        if (Arc.container() == null) {
            return;
        }
        try (InstanceHandle<WalTruncation> handle = Arc.container().instance(WalTruncation.class)) {
            if (handle.isAvailable()) {
                handle.get().afterCommit();
            }
        }
    }

    /** Truncates the WAL once the current transaction has committed (once per transaction, however often called). */
    public void afterCommit() {
        if (!sqlite || transactions.getTransactionStatus() != Status.STATUS_ACTIVE || transactions.getResource(REGISTERED) != null) {
            return;
        }
        transactions.putResource(REGISTERED, Boolean.TRUE);
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
                // Nothing is destroyed on disk until the commit.
            }

            @Override
            public void afterCompletion(int status) {
                if (status == Status.STATUS_COMMITTED) {
                    truncate();
                }
            }
        });
    }

    /**
     * Checkpoints every frame into the database file and truncates the WAL to zero bytes; waits for
     * readers up to the connection's busy timeout. Returns whether it completed; a reader that holds an
     * old snapshot longer makes it give up (logged): the next truncation or SQLite's own checkpoints
     * overwrite the frames later.
     */
    public boolean truncate() {
        if (!sqlite) {
            return true;
        }
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            // One row: busy (1 if it could not complete), frames in the log, frames checkpointed.
            boolean complete = rs.next() && rs.getInt(1) == 0;
            if (!complete) {
                LOG.warn("the WAL could not be truncated after a value was destroyed (a reader was busy);"
                        + " its old frames are overwritten by later checkpoints");
            }
            return complete;
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("the WAL could not be truncated after a value was destroyed (%s)", e.getMessage());
            return false;
        }
    }
}
