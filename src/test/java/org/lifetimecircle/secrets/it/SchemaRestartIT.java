package org.lifetimecircle.secrets.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lifetimecircle.secrets.testing.ServiceProcess;

/**
 * A restart on a current schema skips Flyway's migrate (db.Migrations, issue 24: start-up time), and that shortcut
 * must never skip real work: a migration the store has not applied still runs on the next start, and a failed one
 * still stops the start. The store is changed behind the service's back, as an older jar's store or a crashed
 * migration would leave it.
 */
class SchemaRestartIT {

    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    /** Flyway's own INFO lines (the service keeps org.flywaydb at WARN): they show whether Flyway migrated. */
    private static final String FLYWAY_INFO = "quarkus.log.category.\"org.flywaydb\".level";

    @TempDir
    Path tmp;
    Path data;
    Path policies;

    @BeforeEach
    void layout() throws Exception {
        data = tmp.resolve("data");
        policies = ServiceProcess.testPolicies(tmp, "prod", "staging");
    }

    @Test
    void aCurrentSchemaSkipsFlywayAndAPendingMigrationStillRuns() throws Exception {
        try (ServiceProcess first = start()) {
            assertThat(first.output()).contains("Successfully applied");
        }
        try (ServiceProcess restart = start()) {
            // Flyway's migrate logs "Current version of schema ..." whenever it runs; on a current schema it did not.
            assertThat(restart.output()).contains("ltc-secrets ready").doesNotContain("Current version of schema");
        }

        // The store as the jar before V15 left it: V15 undone and not in the history.
        try (Connection db = ServiceProcess.database(data); Statement st = db.createStatement()) {
            st.executeUpdate("DROP TABLE approval");
            for (String column : List.of("approved_by", "approval_id")) {
                st.executeUpdate("ALTER TABLE access_grant DROP COLUMN " + column);
            }
            for (String column : List.of("approved_by", "approval_id", "review_required", "reviewed_by", "reviewed_at",
                    "review_reason", "review_alerted_at")) {
                st.executeUpdate("ALTER TABLE rotation DROP COLUMN " + column);
            }
            assertThat(st.executeUpdate("DELETE FROM flyway_schema_history WHERE version = '15'")).isEqualTo(1);
        }
        try (ServiceProcess upgraded = start()) {
            assertThat(upgraded.output()).contains("Migrating schema").contains("ltc-secrets ready");
            assertThat(upgraded.get("/api/v1/approvals")).isPresent(); // answers (401 without a token), no 500
        }
        try (Connection db = ServiceProcess.database(data); Statement st = db.createStatement()) {
            assertThat(rows(st, "SELECT version FROM flyway_schema_history WHERE success = 1 AND version = '15'"))
                    .containsExactly("15");
            assertThat(rows(st, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'approval'"))
                    .containsExactly("approval");
        }
    }

    @Test
    void aFailedMigrationInTheHistoryStillStopsTheStart() throws Exception {
        try (ServiceProcess first = start()) {
            assertThat(first.output()).contains("ltc-secrets ready");
        }
        try (Connection db = ServiceProcess.database(data); Statement st = db.createStatement()) {
            st.executeUpdate("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                    + " checksum, installed_by, installed_on, execution_time, success)"
                    + " VALUES (99, '99', 'crashed', 'SQL', 'V99__crashed.sql', 0, 'test', '2026-01-01 00:00:00', 0, 0)");
        }
        ServiceProcess refused = start(false);
        try {
            assertThat(refused.awaitExit(START_DEADLINE)).isNotZero();
            assertThat(refused.output()).contains("failed migration").doesNotContain("ltc-secrets ready");
        } finally {
            refused.close();
        }
    }

    private ServiceProcess start() {
        return start(true);
    }

    private ServiceProcess start(boolean healthy) {
        ServiceProcess.Builder b = ServiceProcess.dev(tmp, data, policies, tmp.resolve("root")).sqliteOnly()
                .property(FLYWAY_INFO, "INFO");
        return healthy ? b.startHealthy(START_DEADLINE) : b.start();
    }

    private static List<String> rows(Statement st, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
