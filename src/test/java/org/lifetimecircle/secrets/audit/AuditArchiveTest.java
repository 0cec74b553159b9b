package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lifetimecircle.secrets.scheduler.Housekeeping;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Processes;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Audit archiving on an application of its own (archiving deletes the oldest events, which the other
 * tests' shared trail must keep), with a retention of one day for the scheduler's step. Archives are
 * checked as an auditor would: with tools/audit-verify and the real openssl binary.
 */
@QuarkusTest
@TestProfile(AuditArchiveTest.Isolated.class)
@WithTestResource(TestDataDir.class)
class AuditArchiveTest {

    /** Its own application and database, with a retention for the scheduler. */
    public static class Isolated implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("ltc-secrets.audit.retention", "P1D");
        }
    }

    private static final String VERIFIER = Path.of("tools/audit-verify").toAbsolutePath().toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    AuditVerifier verifier;

    @Inject
    AuditArchiver archiver;

    @Inject
    Housekeeping scheduler;

    @TempDir
    Path tmp;

    @Test
    void archiveMovesTheOldestEventsToASignedFileAndTheRestStillVerifies() throws Exception {
        traffic();
        long first = Db.queryLong("select min(seq) from audit_event");
        long head = Db.queryLong("select max(seq) from audit_event");
        byte[] exportBefore = as(adminToken()).get("/api/v1/audit/export?format=jsonl").then().statusCode(200)
                .extract().asByteArray();
        // The export itself added an audit.export event: it is older than 'before' and archived too.
        long through = head + 1;
        Instant before = after(through);

        ExtractableResponse<Response> r = archive(before).then().statusCode(200).extract();
        assertThat(r.<Integer>path("archivedFromSeq").longValue()).isEqualTo(first);
        assertThat(r.<Integer>path("archivedThroughSeq").longValue()).isEqualTo(through);
        assertThat(r.<Integer>path("events").longValue()).isEqualTo(through - first + 1);
        String file = r.path("file");
        assertThat(file).isEqualTo(String.format("audit-%012d-%012d.jsonl", first, through));

        Path dir = TestDataDir.dataDir().resolve("audit-archive");
        Path archive = dir.resolve(file);
        byte[] bytes = Files.readAllBytes(archive);
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                .isEqualTo(r.<String>path("sha256"));
        // Byte for byte the JSONL export of those events (and then the export's own event).
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertThat(text).startsWith(firstLines(new String(exportBefore, StandardCharsets.UTF_8), (int) (head - first + 1)));
        assertThat(text.lines()).hasSize((int) (through - first + 1));
        assertThat(text.lines().reduce((a, b) -> b).orElseThrow()).startsWith("{\"seq\":" + through + ",")
                .contains("\"action\":\"audit.export\"");
        assertThat(FileModes.stat(dir)).isEqualTo("700");
        for (Path p : List.of(archive, sig(archive), anchorOf(archive))) {
            assertThat(FileModes.stat(p)).as(p.toString()).isEqualTo("400");
        }

        // Gone from the database; the archive's own event starts the live chain, linked to the anchor.
        assertThat(Db.queryLong("select count(*) from audit_event where seq <= " + through)).isZero();
        Map<String, Object> anchor = JSON.readValue(anchorOf(archive).toFile(), Map.class);
        assertThat(anchor).containsEntry("seq", (int) through).containsEntry("file", file)
                .containsEntry("sha256", r.path("sha256"));
        List<Map<String, Object>> live = as(adminToken()).get("/api/v1/audit/events?limit=1").then().statusCode(200)
                .extract().jsonPath().getList("$");
        assertThat(live.get(0)).containsEntry("seq", (int) through + 1).containsEntry("action", "audit.archive")
                .containsEntry("actor", "bootstrap-admin").containsEntry("outcome", "SUCCESS")
                .containsEntry("prevHash", anchor.get("hash"));
        assertThat((Map<String, Object>) live.get(0).get("details")).containsEntry("archivedThroughSeq", (int) through)
                .containsEntry("file", file).containsEntry("reason", "archive test");

        as(adminToken()).get("/api/v1/audit/verify").then().statusCode(200).body("valid", equalTo(true))
                .body("archivedThroughSeq", equalTo((int) through)).body("anchorFile", equalTo(file));
        assertThat(verifier.verifyTail(AuditIntegrity.TAIL).valid()).isTrue();

        // Offline: the archive on its own, and a live export starting after it.
        Processes.Result alone = Processes.run(List.of(VERIFIER, "--archive", archive.toString()));
        assertThat(alone.exit()).as(alone.output()).isZero();
        assertThat(alone.output()).contains("OK: archive " + file + ": " + (through - first + 1) + " events");
        ExtractableResponse<Response> export = as(adminToken()).get("/api/v1/audit/export?format=jsonl").then()
                .statusCode(200).header("X-Audit-Chain-Start-Seq", String.valueOf(through + 1))
                .header("X-Audit-Chain-Start-Prev-Hash", (String) anchor.get("hash"))
                .header("X-Audit-Anchor-File", file).extract();
        Path liveExport = tmp.resolve("live.jsonl");
        Files.write(liveExport, export.asByteArray());
        for (String after : List.of(archive.toString(), anchorOf(archive).toString())) {
            Processes.Result r2 = Processes.run(List.of(VERIFIER, "--after", after, liveExport.toString()));
            assertThat(r2.exit()).as(r2.output()).isZero();
            assertThat(r2.output()).contains("seq " + (through + 1) + "..").contains("anchor seq=" + through + " verified");
        }
        Processes.Result byHeader = Processes.run(List.of(VERIFIER, "--anchor",
                export.header("X-Audit-Chain-Start-Prev-Hash"), liveExport.toString()));
        assertThat(byHeader.exit()).as(byHeader.output()).isZero();

        // The README's openssl commands.
        assertThat(openssl(archive, anchorOf(archive)).exit()).isZero();
    }

    @Test
    void tamperingWithAnArchiveIsDetectedOfflineAndByOpenssl() throws Exception {
        traffic();
        Path archive = archivedFile(archive(after(Db.queryLong("select max(seq) from audit_event")))
                .then().statusCode(200).extract().path("file"));
        Path copy = tmp.resolve(archive.getFileName());
        Files.copy(archive, copy);
        Files.copy(sig(archive), sig(copy));
        Files.copy(anchorOf(archive), anchorOf(copy));
        Processes.Result intact = Processes.run(List.of(VERIFIER, "--archive", copy.toString()));
        assertThat(intact.exit()).as(intact.output()).isZero();
        assertThat(openssl(copy, anchorOf(copy)).exit()).isZero();

        String text = Files.readString(copy);
        Files.setPosixFilePermissions(copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Files.writeString(copy, text.replaceFirst("\"outcome\":\"SUCCESS\"", "\"outcome\":\"FAILED\""));
        Processes.Result changed = Processes.run(List.of(VERIFIER, "--archive", copy.toString()));
        assertThat(changed.exit()).isEqualTo(1);
        assertThat(changed.output()).contains("INVALID: archive SHA-256 differs from its signed anchor");
        Processes.Result ossl = openssl(copy, anchorOf(copy));
        assertThat(ossl.exit()).as(ossl.output()).isNotZero();
        assertThat(ossl.output()).contains("Signature Verification Failure");
    }

    @Test
    void tamperingWithTheLiveChainOrTheAnchorIsStillDetected() throws Exception {
        traffic();
        archive(after(Db.queryLong("select max(seq) from audit_event"))).then().statusCode(200);
        traffic();
        long anchorSeq = Db.queryLong("select max(seq) from audit_anchor");
        long firstLive = anchorSeq + 1;
        assertThat(Db.queryLong("select min(seq) from audit_event")).isEqualTo(firstLive);
        Db.appendOnly(false);
        try {
            String actor = text("select actor from audit_event where seq = " + firstLive);
            Db.exec("UPDATE audit_event SET actor = 'mallory' WHERE seq = " + firstLive);
            assertInvalidAt(firstLive, "does not match its content");
            Db.exec("UPDATE audit_event SET actor = '" + actor + "' WHERE seq = " + firstLive);

            // A forged start: the first live event re-hashed onto another anchor hash.
            String prev = text("select prev_hash from audit_event where seq = " + firstLive);
            Db.exec("UPDATE audit_event SET prev_hash = '" + "ab".repeat(32) + "' WHERE seq = " + firstLive);
            assertInvalidAt(firstLive, "prevHash of seq " + firstLive);
            Db.exec("UPDATE audit_event SET prev_hash = '" + prev + "' WHERE seq = " + firstLive);

            // The anchor itself rewritten to match: its signature no longer does.
            String anchorHash = text("select hash from audit_anchor where seq = " + anchorSeq);
            Db.exec("UPDATE audit_anchor SET hash = '" + "ab".repeat(32) + "' WHERE seq = " + anchorSeq);
            assertInvalidAt(anchorSeq, "not validly signed");
            Db.exec("UPDATE audit_anchor SET hash = '" + anchorHash + "' WHERE seq = " + anchorSeq);
        } finally {
            Db.appendOnly(true);
        }
        assertThat(verifier.verifyAll().valid()).isTrue();

        // The database refuses to delete a live event, and an anchor at all.
        assertThatThrownBy(() -> Db.exec("DELETE FROM audit_event WHERE seq = " + firstLive))
                .isInstanceOf(java.sql.SQLException.class);
        assertThatThrownBy(() -> Db.exec("DELETE FROM audit_anchor")).isInstanceOf(java.sql.SQLException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "{\"reason\":\"r\"}", "{\"before\":\"\",\"reason\":\"r\"}",
        "{\"before\":\"yesterday\",\"reason\":\"r\"}", "{\"before\":\"2026-13-01T00:00:00Z\",\"reason\":\"r\"}",
        "{\"before\":\"FUTURE\",\"reason\":\"r\"}", "{\"before\":\"2000-01-01T00:00:00Z\"}",
        "{\"before\":\"2000-01-01T00:00:00Z\",\"reason\":\" \"}",
        "{\"before\":\"2000-01-01T00:00:00Z\",\"reason\":\"r\",\"all\":true}", "{\"before\":42,\"reason\":\"r\"}",
        "{\"before\":", "[]"})
    void badInputIsRefusedAndChangesNothing(String body) throws Exception {
        traffic();
        long anchors = Db.queryLong("select count(*) from audit_anchor");
        long first = Db.queryLong("select min(seq) from audit_event");
        String json = body.replace("FUTURE", TestClock.now().plus(Duration.ofHours(1)).toString());
        String rid = "archive-bad-" + System.nanoTime();
        as(adminToken()).header("X-Request-Id", rid).contentType(ContentType.JSON).body(json)
                .post("/api/v1/audit/archive").then().statusCode(400).contentType("application/problem+json")
                .body("code", equalTo("invalid-request"));
        assertThat(Db.queryLong("select count(*) from audit_anchor")).isEqualTo(anchors);
        assertThat(Db.queryLong("select min(seq) from audit_event")).isEqualTo(first);
        List<Map<String, Object>> events = Db.eventsOf(rid);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).containsEntry("action", "audit.archive").containsEntry("outcome", "FAILED");
    }

    @Test
    void onlyAnAdminMayArchive() throws Exception {
        traffic();
        long first = Db.queryLong("select min(seq) from audit_event");
        Instant before = after(Db.queryLong("select max(seq) from audit_event"));
        for (String role : List.of("security-engineer", "auditor", "deployer")) {
            String rid = "archive-denied-" + System.nanoTime();
            as(Api.tokenFor(role)).header("X-Request-Id", rid).contentType(ContentType.JSON)
                    .body(Map.of("before", before.toString(), "reason", "not mine")).post("/api/v1/audit/archive")
                    .then().statusCode(403).body("code", equalTo("forbidden"));
            assertThat(Db.eventsOf(rid)).singleElement().satisfies(e -> assertThat(e)
                    .containsEntry("action", "auth.denied").containsEntry("outcome", "DENIED"));
        }
        assertThat(Db.queryLong("select min(seq) from audit_event")).isEqualTo(first);
        String admin = Api.tokenFor("admin");
        as(admin).contentType(ContentType.JSON).body(Map.of("before", before.toString(), "reason", "mine"))
                .post("/api/v1/audit/archive").then().statusCode(200);
        assertThat(Db.queryLong("select min(seq) from audit_event")).isGreaterThan(first);
    }

    @Test
    void nothingOldEnoughIsAnswered200WithNulls() throws Exception {
        String rid = "archive-nothing-" + System.nanoTime();
        as(adminToken()).header("X-Request-Id", rid).contentType(ContentType.JSON)
                .body(Map.of("before", "2000-01-01T00:00:00Z", "reason", "nothing")).post("/api/v1/audit/archive")
                .then().statusCode(200).body("archivedThroughSeq", nullValue()).body("file", nullValue())
                .body("sha256", nullValue()).body("events", equalTo(0));
        List<Map<String, Object>> events = Db.eventsOf(rid);
        assertThat(events).singleElement().satisfies(e -> assertThat(e).containsEntry("action", "audit.archive")
                .containsEntry("outcome", "SUCCESS"));
        assertThat((String) events.get(0).get("details")).contains("\"events\":0");
    }

    @Test
    void aFailureBetweenTheFileAndTheDatabaseLeavesBothConsistent() throws Exception {
        traffic();
        long anchors = Db.queryLong("select count(*) from audit_anchor");
        long first = Db.queryLong("select min(seq) from audit_event");
        long head = Db.queryLong("select max(seq) from audit_event");
        Path dir = TestDataDir.dataDir().resolve("audit-archive");
        // A real fault at the step after the files: the anchor insert (the delete's precondition) fails.
        Db.refuseInserts("inject_archive_failure", "audit_anchor", null, "injected archive failure");
        String rid = "archive-fail-" + System.nanoTime();
        try {
            as(adminToken()).header("X-Request-Id", rid).contentType(ContentType.JSON)
                    .body(Map.of("before", after(head).toString(), "reason", "fails")).post("/api/v1/audit/archive")
                    .then().statusCode(500).contentType("application/problem+json");
        } finally {
            Db.dropRefusal("inject_archive_failure", "audit_anchor");
        }
        String leftover = String.format("audit-%012d-%012d", first, head);
        assertThat(dir.resolve(leftover + ".jsonl")).exists();
        assertThat(dir.resolve(leftover + ".anchor.json")).exists();
        assertThat(Db.queryLong("select count(*) from audit_anchor")).isEqualTo(anchors);
        assertThat(Db.queryLong("select min(seq) from audit_event")).isEqualTo(first);
        assertThat(Db.eventsOf(rid)).singleElement().satisfies(e -> assertThat(e)
                .containsEntry("action", "audit.archive").containsEntry("outcome", "FAILED"));
        assertThat(verifier.verifyAll().valid()).isTrue();

        // What start-up does: the leftover's events are all still here, so it goes.
        archiver.removeLeftovers();
        assertThat(dir.resolve(leftover + ".jsonl")).doesNotExist();
        assertThat(dir.resolve(leftover + ".jsonl.sig")).doesNotExist();
        assertThat(dir.resolve(leftover + ".anchor.json")).doesNotExist();

        // Left again, the next archive (a longer range, another name) replaces it with a consistent one.
        Db.refuseInserts("inject_archive_failure", "audit_anchor", null, "injected archive failure");
        try {
            archive(after(Db.queryLong("select max(seq) from audit_event"))).then().statusCode(500);
        } finally {
            Db.dropRefusal("inject_archive_failure", "audit_anchor");
        }
        long lastFailedEnd = Db.queryLong("select max(seq) from audit_event") - 1;
        traffic();
        ExtractableResponse<Response> ok = archive(after(Db.queryLong("select max(seq) from audit_event")))
                .then().statusCode(200).extract();
        assertThat(ok.<Integer>path("archivedFromSeq").longValue()).isEqualTo(first);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith(String.format("audit-%012d-%012d.", first, lastFailedEnd)))
                    .noneMatch(n -> n.contains(".tmp-"))
                    .contains(ok.<String>path("file"));
        }
        assertThat(verifier.verifyAll().valid()).isTrue();
        Processes.Result r = Processes.run(List.of(VERIFIER, "--archive", dir.resolve(ok.<String>path("file")).toString()));
        assertThat(r.exit()).as(r.output()).isZero();
    }

    @Test
    void theSchedulerArchivesWhatIsOlderThanTheRetention() throws Exception {
        traffic();
        long head = Db.queryLong("select max(seq) from audit_event");
        // A run now finds nothing older than a day and leaves no event.
        Housekeeping.Report quiet = scheduler.run(TestClock.now());
        assertThat(quiet.archived()).isZero();
        assertThat(Db.queryLong("select count(*) from audit_event where seq > " + head + " and action = 'audit.archive'"))
                .isZero();

        TestClock.advance(Duration.ofDays(2));
        Instant now = TestClock.now();
        Housekeeping.Report report = scheduler.run(now);
        assertThat(report.success()).isTrue();
        assertThat(report.archived()).isPositive();
        assertThat(Db.queryLong("select max(seq) from audit_anchor")).isGreaterThanOrEqualTo(head);
        // Everything left is younger than the retention; the archive's event is the scheduler's.
        String oldestLeft = text("select min(time) from audit_event");
        assertThat(Instant.parse(oldestLeft)).isAfterOrEqualTo(now.minus(Duration.ofDays(1)));
        assertThat(Db.queryLong("select count(*) from audit_event where actor = 'scheduler' and action = 'audit.archive' "
                + "and outcome = 'SUCCESS'")).isEqualTo(1);
        assertThat(verifier.verifyAll().valid()).isTrue();
    }

    // ---------------------------------------------------------------------------------------------

    private static void traffic() {
        Api.tokenFor("auditor");
        as(adminToken()).get("/api/v1/audit/checkpoint").then().statusCode(200);
        Api.tokenFor("deployer");
    }

    /** A 'before' that includes the event at {@code seq} and everything before it, and is not in the future. */
    private static Instant after(long seq) throws Exception {
        Instant t = Instant.parse(text("select time from audit_event where seq = " + seq)).plusMillis(1);
        Instant now = TestClock.now();
        if (!now.isAfter(t)) {
            TestClock.advance(Duration.between(now, t).plusMillis(1));
        }
        return t;
    }

    private static Response archive(Instant before) {
        return as(adminToken()).contentType(ContentType.JSON)
                .body(Map.of("before", before.toString(), "reason", "archive test")).post("/api/v1/audit/archive");
    }

    private static Path archivedFile(String name) {
        return TestDataDir.dataDir().resolve("audit-archive").resolve(name);
    }

    private static Path sig(Path archive) {
        return archive.resolveSibling(archive.getFileName() + ".sig");
    }

    private static Path anchorOf(Path archive) {
        String n = archive.getFileName().toString();
        return archive.resolveSibling(n.substring(0, n.length() - ".jsonl".length()) + ".anchor.json");
    }

    /** README: the detached signature over the archive's SHA-256, checked with openssl alone. */
    private Processes.Result openssl(Path archive, Path anchor) throws Exception {
        Path digest = tmp.resolve("digest-" + System.nanoTime() + ".bin");
        Path pem = tmp.resolve("pub-" + System.nanoTime() + ".pem");
        Processes.Result d = Processes.run(List.of("openssl", "dgst", "-sha256", "-binary", "-out", digest.toString(),
                archive.toString()));
        assertThat(d.exit()).as(d.output()).isZero();
        Files.writeString(pem, (String) JSON.readValue(anchor.toFile(), Map.class).get("publicKeyPem"));
        return Processes.run(List.of("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem.toString(), "-rawin",
                "-in", digest.toString(), "-sigfile", sig(archive).toString()));
    }

    private static String firstLines(String text, int n) {
        int end = 0;
        for (int i = 0; i < n; i++) {
            end = text.indexOf('\n', end) + 1;
        }
        return text.substring(0, end);
    }

    private void assertInvalidAt(long seq, String reason) {
        VerifyResult r = verifier.verifyAll();
        assertThat(r.valid()).as(r.toString()).isFalse();
        assertThat(r.firstInvalidSeq()).as(r.reason()).isEqualTo(seq);
        assertThat(r.reason()).contains(reason);
    }

    private static String text(String sql) throws Exception {
        try (Connection c = Db.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
