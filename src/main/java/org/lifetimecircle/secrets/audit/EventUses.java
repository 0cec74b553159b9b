package org.lifetimecircle.secrets.audit;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What an appended event records outside the chain: the use of a grant, the token that authenticated the
 * request. The tables are access's, so access implements this ({@code access.UseCounts}); the writer only calls it
 * on its own connection, in the events' transaction (and savepoint, when they have one), so a use is recorded exactly when its
 * event is. An interface here rather than a call into access keeps the audit package below access.
 */
public interface EventUses extends AutoCloseable {

    /** Notes one use of the grant at {@code at} (epoch milliseconds), written by {@link #writeGrantUses}. */
    void grantUsed(String grantId, long at);

    /**
     * Writes the noted grant uses (summed per grant): inside the event's savepoint when the events have one, else
     * once for the batch, before its commit.
     */
    void writeGrantUses() throws SQLException;

    /** Notes that the token authenticated a request whose event has time {@code at}. */
    void tokenUsed(String tokenId, long at);

    /** Writes the noted token uses (once per token and batch). */
    void writeTokenUses() throws SQLException;

    /** Drops the grant uses noted and not written (the savepoint that would have held them was rolled back). */
    void forgetGrantUses();

    @Override
    void close() throws SQLException;

    /** Opens the recorder on the connection (and so in the transaction) that appends the events. */
    interface Factory {
        EventUses on(Connection c);
    }
}
