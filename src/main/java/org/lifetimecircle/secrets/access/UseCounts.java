package org.lifetimecircle.secrets.access;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.lifetimecircle.secrets.audit.EventUses;

/**
 * The access tables' share of an audit event: a successful use of a grant counts on the grant (the
 * access review's "did they use it"), and the token that authenticated a request gets the event's
 * time as its {@code last_used_at}. Written by the single audit writer on its own connection, in the
 * events' transaction (and savepoint, when they have one), so a use is recorded exactly when its event is; the SQL is
 * here because the tables are access's. Statements are prepared once per connection use, not per event.
 *
 * <p>A deploy script fetching in a loop puts many events of one token in a batch: its
 * {@code last_used_at} is written once, with the latest of their times ({@link #writeTokenUses}).
 */
public final class UseCounts implements EventUses {

    private static final String GRANT_USED = "update access_grant set use_count = use_count + ?, last_used_at = ? "
            + "where id = ?";
    // Never moves a last_used_at back (a clock set back, an older event committed after a newer one).
    // Plain JDBC: positional "?" only (SQLite's "?1" reuse is not SQL PostgreSQL's driver accepts).
    private static final String TOKEN_USED = "update api_token set last_used_at = ? where id = ? "
            + "and (last_used_at is null or last_used_at < ?)";

    private final Connection c;
    private PreparedStatement grantUse;
    private PreparedStatement tokenUse;
    private final Map<String, Long> tokenUses = new HashMap<>();
    /** Noted grant uses not written yet: how many, and the time of the latest noted. */
    private final Map<String, long[]> grantUses = new LinkedHashMap<>();

    /** On the connection (and so in the transaction) that appends the events. */
    public UseCounts(Connection c) {
        this.c = c;
    }

    /** Notes one use of the grant at {@code at} (epoch milliseconds); see {@link #writeGrantUses}. */
    @Override
    public void grantUsed(String grantId, long at) {
        long[] use = grantUses.computeIfAbsent(grantId, id -> new long[2]);
        use[0]++;
        use[1] = at; // the last event's time, as one update per event left it
    }

    /**
     * Writes the noted grant uses, one update per grant with the uses summed: a deploy script fetching in a
     * loop puts many events of one grant in a batch.
     */
    @Override
    public void writeGrantUses() throws SQLException {
        if (grantUses.isEmpty()) {
            return;
        }
        if (grantUse == null) {
            grantUse = c.prepareStatement(GRANT_USED);
        }
        for (Map.Entry<String, long[]> use : grantUses.entrySet()) {
            grantUse.setLong(1, use.getValue()[0]);
            grantUse.setLong(2, use.getValue()[1]);
            grantUse.setString(3, use.getKey());
            grantUse.executeUpdate();
        }
        grantUses.clear();
    }

    @Override
    public void forgetGrantUses() {
        grantUses.clear();
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
