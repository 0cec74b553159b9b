package org.lifetimecircle.secrets.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.TestDataDir;
import org.lifetimecircle.secrets.testing.TestPostgres;

/**
 * The hot reads on the service's own pool and database: a kept statement reads what is committed, holds no
 * snapshot between reads, is kept on SQLite (and not on PostgreSQL), and the pool renewing its connections
 * leaves no statements behind.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class HotReadsTest {

    private static final String READ = "select v from hot_reads_probe order by k";

    @Inject
    HotReads reads;

    @Inject
    AgroalDataSource dataSource;

    @BeforeEach
    void table() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute("create table if not exists hot_reads_probe (k integer primary key, v text not null)");
            st.execute("delete from hot_reads_probe");
            st.execute("insert into hot_reads_probe values (1, 'one'), (2, 'two')");
        }
    }

    @Test
    void everyReadSeesWhatIsCommittedBeforeIt() throws SQLException {
        for (int round = 0; round < 12; round++) {
            String value = "value-" + round;
            try (Connection c = dataSource.getConnection(); PreparedStatement ps =
                    c.prepareStatement("update hot_reads_probe set v = ? where k = 1")) {
                ps.setString(1, value);
                ps.executeUpdate();
            }
            assertThat(first()).isEqualTo(value);
        }
    }

    @Test
    void aReadThatStopsEarlyHoldsBackNoCheckpoint() throws SQLException {
        Assumptions.assumeFalse(TestPostgres.selected(), "SQLite's WAL");
        write(); // a WAL with frames in it, so a reader takes a read mark in it
        for (int i = 0; i < 8; i++) {
            assertThat(first()).isEqualTo("one"); // one of two rows read: the statement is reset all the same
        }
        write();
        assertThat(checkpointBusy()).as("a checkpoint after the reads").isZero();

        // The check can see a held snapshot: a statement left stepping holds one.
        write();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READ)) {
            ResultSet rs = ps.executeQuery();
            assertThat(rs.next()).isTrue();
            write();
            assertThat(checkpointBusy()).as("a checkpoint while a statement holds its snapshot").isOne();
        }
    }

    @Test
    void statementsAreKeptOnSqliteAndPreparedAnewOnPostgresql() throws SQLException {
        Set<Statement> used = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < 20; i++) {
            used.add(reads.read(READ, ps -> { }, ResultSet::getStatement));
        }
        if (TestPostgres.selected()) {
            assertThat(used).hasSize(20);
        } else {
            assertThat(used.size()).as("at most one per pooled connection").isBetween(1, 4);
        }
    }

    @Test
    void renewedConnectionsLeaveNoStatementsBehindAndReadsGoOn() throws SQLException {
        for (int i = 0; i < 10; i++) {
            assertThat(first()).isEqualTo("one");
            dataSource.flush(AgroalDataSource.FlushMode.GRACEFUL); // as the audit writer renews them
        }
        assertThat(first()).isEqualTo("one");
        assertThat(reads.connectionsKept()).isLessThanOrEqualTo(TestPostgres.selected() ? 0 : 4);
    }

    @Test
    void aFailedReadDropsItsStatementAndTheNextOneWorks() throws SQLException {
        assertThatThrownBy(() -> reads.read(READ, ps -> {
            throw new SQLException("a binder that fails");
        }, rs -> null)).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> reads.read(READ, ps -> { }, rs -> {
            throw new IllegalStateException("a reader that fails");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(first()).isEqualTo("one");
    }

    private String first() throws SQLException {
        return reads.read(READ, ps -> { }, rs -> rs.next() ? rs.getString(1) : null);
    }

    private void write() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute("update hot_reads_probe set v = v || '.' where k = 2");
        }
    }

    /** PRAGMA wal_checkpoint(TRUNCATE)'s first column: 1 when a reader kept it from finishing. */
    private int checkpointBusy() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("pragma wal_checkpoint(TRUNCATE)")) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }
}
