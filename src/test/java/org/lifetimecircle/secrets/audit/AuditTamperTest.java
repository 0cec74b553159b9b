package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Plays an attacker with write access to the database file, on an application of its own (a
 * separate profile, so a fresh data directory): each tampering is detected at the right seq by
 * the verifier, then undone so the next case starts from an intact chain. Verification is called
 * on the bean, so checking does not itself append events while the chain is broken.
 */
@QuarkusTest
@TestProfile(AuditTamperTest.Isolated.class)
@WithTestResource(TestDataDir.class)
class AuditTamperTest {

    /** A profile of its own gives this class its own application and database. */
    public static class Isolated implements QuarkusTestProfile {
    }

    @Inject
    AuditVerifier verifier;

    @BeforeEach
    void someHistory() throws Exception {
        for (int i = 0; i < 3; i++) {
            Api.tokenFor("auditor");
        }
        as(adminToken()).get("/api/v1/audit/checkpoint").then().statusCode(200);
        Api.tokenFor("deployer");
        Db.appendOnly(false);
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void theDatabaseRefusesUpdatesAndDeletesOfEventsUntilTheTriggersAreDropped() throws Exception {
        Db.appendOnly(true);
        try {
            assertThatThrownBy(() -> Db.exec("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2"))
                    .isInstanceOf(java.sql.SQLException.class);
        } finally {
            Db.appendOnly(false);
        }
    }

    @Test
    void aChangedFieldIsDetected() throws Exception {
        String actor = text("select actor from audit_event where seq = 3");
        Db.exec("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3");
        try {
            assertInvalidAt(3);
        } finally {
            Db.exec("UPDATE audit_event SET actor = '" + actor + "' WHERE seq = 3");
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void aDeletedRowIsDetected() throws Exception {
        List<Object[]> saved = rows("seq = 4");
        Db.exec("DELETE FROM audit_event WHERE seq = 4");
        try {
            assertInvalidAt(4);
        } finally {
            restore(saved);
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void twoSwappedRowsAreDetected() throws Exception {
        List<Object[]> saved = rows("seq in (4, 5)");
        Db.exec("DELETE FROM audit_event WHERE seq in (4, 5)");
        Object[] four = saved.get(0).clone();
        Object[] five = saved.get(1).clone();
        four[0] = 5L;
        five[0] = 4L;
        restore(List.of(five, four));
        try {
            assertInvalidAt(4);
        } finally {
            Db.exec("DELETE FROM audit_event WHERE seq in (4, 5)");
            restore(saved);
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void truncationBelowASignedCheckpointIsDetected() throws Exception {
        long head = Db.queryLong("select max(seq) from audit_event");
        long signed = Db.queryLong("select max(seq) from audit_checkpoint");
        List<Object[]> saved = rows("seq >= " + signed);
        Db.exec("DELETE FROM audit_event WHERE seq >= " + signed);
        try {
            VerifyResult r = verifier.verifyAll();
            assertThat(r.valid()).isFalse();
            assertThat(r.firstInvalidSeq()).isEqualTo(signed);
            assertThat(r.reason()).contains("truncated");
        } finally {
            restore(saved);
        }
        assertThat(Db.queryLong("select max(seq) from audit_event")).isEqualTo(head);
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void anAppendedForgedRowIsDetected() throws Exception {
        long head = Db.queryLong("select max(seq) from audit_event");
        String headHash = text("select hash from audit_event where seq = " + head);
        Db.exec("INSERT INTO audit_event (seq, time, actor, action, outcome, details, prev_hash, hash) VALUES ("
                + (head + 1) + ", '2026-01-01T00:00:00.000Z', 'mallory', 'principal.create', 'SUCCESS', '{}', '"
                + headHash + "', '" + "ab".repeat(32) + "')");
        try {
            assertInvalidAt(head + 1);
        } finally {
            Db.exec("DELETE FROM audit_event WHERE seq = " + (head + 1));
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void aRehashedForgeryIsCaughtByTheSignedCheckpoint() throws Exception {
        long signed = Db.queryLong("select max(seq) from audit_checkpoint");
        List<Object[]> saved = rows("seq >= " + signed);
        // Rewrite the signed event and re-hash it and everything after: the chain itself is valid again.
        try (Connection c = Db.open(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            String prev = text("select prev_hash from audit_event where seq = " + signed);
            for (Object[] row : saved) {
                long seq = (Long) row[0];
                String actor = seq == signed ? "mallory" : (String) row[2];
                String hash = ChainHash.hash(seq, (String) row[1], actor, (String) row[3], (String) row[4],
                        (String) row[5], (String) row[6], (String) row[7], (String) row[8], (String) row[9], prev);
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE audit_event SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?")) {
                    ps.setString(1, actor);
                    ps.setString(2, prev);
                    ps.setString(3, hash);
                    ps.setLong(4, seq);
                    ps.executeUpdate();
                }
                prev = hash;
            }
            c.commit();
        }
        try {
            VerifyResult r = verifier.verifyAll();
            assertThat(r.valid()).isFalse();
            assertThat(r.firstInvalidSeq()).isEqualTo(signed);
            assertThat(r.reason()).contains("signed checkpoint");
        } finally {
            Db.exec("DELETE FROM audit_event WHERE seq >= " + signed);
            restore(saved);
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void aFailedAuditWriteFailsTheRequestAndChangesNothing() throws Exception {
        String name = Api.uniqueName("unaudited");
        long head = Db.queryLong("select max(seq) from audit_event");
        Db.refuseInserts("inject_audit_failure", "audit_event", "NEW.target = '" + name + "'",
                "injected audit failure");
        try {
            as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                    .post("/api/v1/principals").then()
                    .statusCode(503)
                    .contentType("application/problem+json")
                    .body("code", equalTo("unavailable"));
        } finally {
            Db.dropRefusal("inject_audit_failure", "audit_event");
        }
        // Nothing changed: no principal, no event, and the chain goes on from where it was.
        as(adminToken()).get("/api/v1/principals/" + name).then().statusCode(404);
        assertThat(Db.queryLong("select count(*) from principal where name = '" + name + "'")).isZero();
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'principal.create' and target = '"
                + name + "'")).isZero();
        assertThat(Db.queryLong("select min(seq) from audit_event where seq > " + head)).isEqualTo(head + 1);
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    @Test
    void aFailedAuditWriteOfAReadAnswers503() throws Exception {
        Db.refuseInserts("inject_read_failure", "audit_event", "NEW.action = 'environment.list'",
                "injected audit failure");
        try {
            String body = as(adminToken()).get("/api/v1/environments").then().statusCode(503)
                    .body("code", equalTo("unavailable")).extract().asString();
            assertThat(body).doesNotContain("staging");
        } finally {
            Db.dropRefusal("inject_read_failure", "audit_event");
        }
        as(adminToken()).get("/api/v1/environments").then().statusCode(200);
    }

    private void assertInvalidAt(long seq) {
        VerifyResult r = verifier.verifyAll();
        assertThat(r.valid()).as(r.toString()).isFalse();
        assertThat(r.firstInvalidSeq()).as(r.reason()).isEqualTo(seq);
    }

    private static String text(String sql) throws Exception {
        try (Connection c = Db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static List<Object[]> rows(String where) throws Exception {
        List<Object[]> out = new ArrayList<>();
        try (Connection c = Db.open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select seq, time, actor, action, environment, target, outcome, request_id, "
                     + "source_ip, details, prev_hash, hash from audit_event where " + where + " order by seq")) {
            while (rs.next()) {
                Object[] row = new Object[12];
                row[0] = rs.getLong(1);
                for (int i = 2; i <= 12; i++) {
                    row[i - 1] = rs.getString(i);
                }
                out.add(row);
            }
        }
        return out;
    }

    private static void restore(List<Object[]> rows) throws Exception {
        try (Connection c = Db.open(); PreparedStatement ps = c.prepareStatement("insert into audit_event (seq, time, "
                + "actor, action, environment, target, outcome, request_id, source_ip, details, prev_hash, hash) "
                + "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (Object[] row : rows) {
                ps.setLong(1, (Long) row[0]);
                for (int i = 1; i < 12; i++) {
                    ps.setString(i + 1, (String) row[i]);
                }
                ps.executeUpdate();
            }
        }
    }
}
