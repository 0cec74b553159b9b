package org.lifetimecircle.secrets.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.db.StoreDriver;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * The fence alone, on a real PostgreSQL database with the real migration: two "writers" (an old active and the
 * instance that took over from it), each with its own session as the service opens them (REPEATABLE READ, from
 * {@link StoreDriver}) and its own {@link EpochFence}. Every interleaving is forced by locks and snapshots, not
 * by timing: whatever the order, no commit of the old epoch lands after the new epoch.
 */
class EpochFenceTest {

    private String url;
    private final List<Connection> open = new ArrayList<>();
    private final List<String> fencedA = new ArrayList<>();
    private final List<String> fencedB = new ArrayList<>();
    private EpochFence a;
    private EpochFence b;

    @BeforeEach
    void database() throws Exception {
        url = TestPostgres.cluster().createDatabase();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute(Files.readString(Path.of("src/main/resources/db/migration/postgresql/V14__ha_epoch.sql")));
            st.execute("create table work (writer text not null)");
        }
        a = new EpochFence(true, fencedA::add);
        b = new EpochFence(true, fencedB::add);
    }

    @AfterEach
    void close() throws SQLException {
        for (Connection c : open) {
            c.close();
        }
    }

    @Test
    void theOldActiveCannotCommitOnceAnotherTookOver() throws Exception {
        Connection ca = connect();
        Connection cb = connect();
        a.activate(HaEpoch.takeOver(ca, "http://a", "a", 1));
        assertThat(commit(a, ca, "a")).as("the active commits in its own epoch").isTrue();

        b.activate(HaEpoch.takeOver(cb, "http://b", "b", 2));
        assertThat(b.epoch()).isEqualTo(a.epoch() + 1);

        assertThat(commit(a, ca, "a")).as("the old active after the take-over").isFalse();
        assertThat(fencedA).as("the old active fenced itself, once").hasSize(1);
        assertThat(commit(a, ca, "a")).as("and stays fenced").isFalse();
        assertThat(fencedA).hasSize(1);
        assertThat(commit(b, cb, "b")).as("the new active commits").isTrue();
        assertThat(fencedB).isEmpty();
        assertThat(writers()).containsExactly("a", "b");
    }

    @Test
    void aTakeOverWaitsForTheCommitThatCheckedBeforeItAndThatCommitLandsFirst() throws Exception {
        Connection ca = connect();
        Connection cb = connect();
        a.activate(HaEpoch.takeOver(ca, "http://a", "a", 1));

        ca.setAutoCommit(false);
        a.check(ca); // holds the row FOR SHARE until the commit
        insert(ca, "a");
        try (Statement st = cb.createStatement()) {
            st.execute("set lock_timeout = 100"); // the row IS locked: this fails whatever the machine's speed
        }
        assertThatThrownBy(() -> HaEpoch.takeOver(cb, "http://b", "b", 2)).isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as("lock_not_available").isEqualTo("55P03"));
        ca.commit();
        ca.setAutoCommit(true);

        b.activate(HaEpoch.takeOver(cb, "http://b", "b", 2));
        assertThat(commit(a, ca, "a")).as("the old active after the take-over").isFalse();
        assertThat(commit(b, cb, "b")).isTrue();
        assertThat(writers()).as("the old active's commit is before the new epoch, none after").containsExactly("a", "b");
    }

    @Test
    void aTransactionWhoseSnapshotIsOlderThanTheTakeOverIsRefused() throws Exception {
        Connection ca = connect();
        Connection cb = connect();
        a.activate(HaEpoch.takeOver(ca, "http://a", "a", 1));

        ca.setAutoCommit(false);
        try (Statement st = ca.createStatement(); ResultSet rs = st.executeQuery("select count(*) from work")) {
            rs.next(); // the snapshot is taken here, before the take-over
        }
        b.activate(HaEpoch.takeOver(cb, "http://b", "b", 2));
        assertThatThrownBy(() -> a.check(ca)).isInstanceOf(SQLException.class);
        ca.rollback();
        ca.setAutoCommit(true);
        assertThat(fencedA).hasSize(1);
        assertThat(commit(b, cb, "b")).isTrue();
        assertThat(writers()).containsExactly("b");
    }

    @Test
    void aStandbyWithoutAnEpochCommitsNothing() throws Exception {
        Connection ca = connect();
        assertThat(commit(a, ca, "a")).isFalse();
        assertThat(writers()).isEmpty();
        assertThat(fencedA).as("not fenced: it never was active").isEmpty();
    }

    @Test
    void onSqliteThereIsNothingToCheck() throws Exception {
        EpochFence single = new EpochFence(false, why -> {
            throw new AssertionError("fenced on a single store");
        });
        single.check(null); // no statement at all
    }

    /** One writer transaction as the audit writer runs it: the fence first, then the work, then the commit. */
    private boolean commit(EpochFence fence, Connection c, String writer) throws SQLException {
        c.setAutoCommit(false);
        try {
            fence.check(c);
            insert(c, writer);
            c.commit();
            return true;
        } catch (SQLException e) {
            c.rollback();
            return false;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void insert(Connection c, String writer) throws SQLException {
        try (var ps = c.prepareStatement("insert into work (writer) values (?)")) {
            ps.setString(1, writer);
            ps.executeUpdate();
        }
    }

    private List<String> writers() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select writer from work order by ctid")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", TestPostgres.USER);
        Connection c = new StoreDriver().connect(url, p);
        open.add(c);
        return c;
    }
}
