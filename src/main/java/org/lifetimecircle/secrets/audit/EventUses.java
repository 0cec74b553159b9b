package org.lifetimecircle.secrets.audit;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What an appended event records outside the chain: the use of a grant, the token that authenticated the
 * request. The tables are access's, so access implements this ({@code access.UseCounts}); the writer only calls it
 * on its own connection, inside the event's savepoint and transaction, so a use is recorded exactly when its
 * event is. An interface here rather than a call into access keeps the audit package below access.
 */
public interface EventUses extends AutoCloseable {

    /** Counts one use of the grant at {@code at} (epoch milliseconds), now, in the current savepoint. */
    void grantUsed(String grantId, long at) throws SQLException;

    /** Notes that the token authenticated a request whose event has time {@code at}. */
    void tokenUsed(String tokenId, long at);

    /** Writes the noted token uses (once per token and batch). */
    void writeTokenUses() throws SQLException;

    @Override
    void close() throws SQLException;

    /** Opens the recorder on the connection (and so in the transaction) that appends the events. */
    interface Factory {
        EventUses on(Connection c);
    }
}
