package org.lifetimecircle.secrets.ha;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The SQL of the {@code ha_epoch} row (migration V14): who took over last, with which epoch, reached at which
 * URL. Written only by an instance that has just taken the advisory lock; read by standbys (to name the
 * active) and by every audit-writer commit ({@link EpochFence}).
 */
final class HaEpoch {

    /**
     * The fence's read: FOR SHARE makes a take-over's increment wait until this transaction ends, and under
     * REPEATABLE READ (every PostgreSQL session of the service, {@code db.StoreDriver}) a row a take-over already
     * changed fails the read with a serialization error instead of showing the old epoch.
     */
    static final String CHECK = "select epoch from ha_epoch where id = 1 for share";

    private HaEpoch() {
    }

    /**
     * Increments the epoch and names this instance, in a transaction of its own, and returns the new epoch.
     * Waits for any commit of an older active that holds the row (its FOR SHARE), so that commit lands before
     * the new epoch and none after it.
     */
    static long takeOver(Connection c, String holder, String instance, long nowMillis) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        // The row exists from the first take-over on: the migration leaves the table empty, like every other.
        try (PreparedStatement ps = c.prepareStatement("insert into ha_epoch (id, epoch, holder, instance, since) "
                + "values (1, 1, ?, ?, ?) on conflict (id) do update set epoch = ha_epoch.epoch + 1, "
                + "holder = excluded.holder, instance = excluded.instance, since = excluded.since returning epoch")) {
            ps.setString(1, holder);
            ps.setString(2, instance);
            ps.setLong(3, nowMillis);
            long epoch;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("the take-over returned no epoch");
                }
                epoch = rs.getLong(1);
            }
            c.commit();
            return epoch;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** The URL of the instance that took over last, if any has. */
    static Optional<String> holder(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select holder from ha_epoch where id = 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
        }
    }
}
