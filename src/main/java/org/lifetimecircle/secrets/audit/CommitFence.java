package org.lifetimecircle.secrets.audit;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Whether this instance may still commit, asked by the {@link AuditWriter} as the first statement of every
 * transaction it commits (both the event-only JDBC batch and the JTA unit batch), on that transaction's own
 * connection. An exception refuses the whole batch: its callers get {@link AuditUnavailableException}, nothing
 * changed.
 *
 * <p>Owned here, implemented above ({@code ha.EpochFence}), so the writer needs to know nothing about which
 * store runs or how instances take turns: on SQLite there is one instance and nothing to check; on a shared
 * PostgreSQL store the check holds a row lock until the commit, so a newer active instance cannot take over
 * in the middle of it, and refuses once one has.
 */
public interface CommitFence {

    /** Throws if this instance must not commit the transaction open on {@code c}. */
    void check(Connection c) throws SQLException;
}
