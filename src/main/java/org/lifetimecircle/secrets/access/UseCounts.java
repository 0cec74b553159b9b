package org.lifetimecircle.secrets.access;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import org.lifetimecircle.secrets.audit.EventUses;

/**
 * The access tables' share of an audit event: a successful use of a grant counts on the grant (the
 * access review's "did they use it"), and the token that authenticated a request gets the event's
 * time as its {@code last_used_at}. Written by the single audit writer on its own connection, inside
 * the event's savepoint and transaction, so a use is recorded exactly when its event is; the SQL is
 * here because the tables are access's. Statements are prepared once per connection use, not per event.
 *
 * <p>A deploy script fetching in a loop puts many events of one token in a batch: its
 * {@code last_used_at} is written once, with the latest of their times ({@link #writeTokenUses}).
 */
public final class UseCounts implements EventUses {

    private static final String GRANT_USED = "update access_grant set use_count = use_count + 1, last_used_at = ? "
            + "where id = ?";
    // Never moves a last_used_at back (a clock set back, an older event committed after a newer one).
    // Plain JDBC: positional "?" only (SQLite's "?1" reuse is not SQL PostgreSQL's driver accepts).
    private static final String TOKEN_USED = "update api_token set last_used_at = ? where id = ? "
            + "and (last_used_at is null or last_used_at < ?)";

    private final Connection c;
    private PreparedStatement grantUse;
    private PreparedStatement tokenUse;
    private final Map<String, Long> tokenUses = new HashMap<>();

    /** On the connection (and so in the transaction) that appends the events. */
    public UseCounts(Connection c) {
        this.c = c;
    }

    /** Counts one use of the grant at {@code at} (epoch milliseconds), now, in the current savepoint. */
    @Override
    public void grantUsed(String grantId, long at) throws SQLException {
        if (grantUse == null) {
            grantUse = c.prepareStatement(GRANT_USED);
        }
        grantUse.setLong(1, at);
        grantUse.setString(2, grantId);
        grantUse.executeUpdate();
    }

    /** Notes that the token authenticated a request whose event has time {@code at}; see {@link #writeTokenUses}. */
    @Override
    public void tokenUsed(String tokenId, long at) {
        if (tokenId != null) {
            tokenUses.merge(tokenId, at, Math::max);
        }
    }

    /**
     * Writes the noted token uses. Never moves a {@code last_used_at} back: it is the latest
     * authenticated request's time.
     */
    @Override
    public void writeTokenUses() throws SQLException {
        if (tokenUses.isEmpty()) {
            return;
        }
        if (tokenUse == null) {
            tokenUse = c.prepareStatement(TOKEN_USED);
        }
        for (Map.Entry<String, Long> use : tokenUses.entrySet()) {
            tokenUse.setLong(1, use.getValue());
            tokenUse.setString(2, use.getKey());
            tokenUse.setLong(3, use.getValue());
            tokenUse.executeUpdate();
        }
        tokenUses.clear();
    }

    @Override
    public void close() throws SQLException {
        for (PreparedStatement s : new PreparedStatement[] {grantUse, tokenUse}) {
            if (s != null) {
                s.close();
            }
        }
    }
}
