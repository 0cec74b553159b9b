package org.lifetimecircle.secrets.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.scheduler.Housekeeping;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Two-person approval against the real app: the {@code approved} test policy asks for approval of grants
 * and rotations, {@code approved-due} of rotations only (its scheduler rotates overdue keys itself).
 * Every rule is tested both ways: who may approve, and who may not.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ApprovalTest {

    private static final String ENV = "approved";
    private static final String SECRET = "LTC_SECRET_KEY";

    @Inject
    Housekeeping scheduler;

    /** A principal with a token. */
    record Person(String name, String token) {
    }

    static Person person(String role) {
        String name = Api.uniqueName("ap-" + role);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", role))
                .post("/api/v1/principals").then().statusCode(201);
        String token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        return new Person(name, token);
    }

    static Response requestGrant(Person by, String grantee, String permission) {
        return as(by.token()).contentType(ContentType.JSON).body(Map.of("principal", grantee, "environment", ENV,
                "permission", permission, "ttl", "PT2H", "reason", "approval test")).post("/api/v1/grants");
    }

    static Response decide(Person by, String id, String decision) {
        return as(by.token()).contentType(ContentType.JSON).body(Map.of("reason", "approval test " + decision))
                .post("/api/v1/approvals/" + id + "/" + decision);
    }

    /** A grant on the approvals environment: requested by one person, approved by another. */
    static String grantApproved(Person requester, Person approver, String grantee, String permission) {
        Response asked = requestGrant(requester, grantee, permission);
        assertThat(asked.statusCode()).as(asked.asString()).isEqualTo(202);
        Response ok = decide(approver, asked.jsonPath().getString("approval.id"), "approve");
        assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
        return ok.jsonPath().getString("grantId");
    }

    static int fetch(Person p) {
        return as(p.token()).get("/api/v1/environments/" + ENV + "/env-file").statusCode();
    }

    @Test
    void aGrantTakesEffectOnlyAfterASecondPersonApprovesIt() throws Exception {
        Person engineer1 = person("security-engineer");
        Person engineer2 = person("security-engineer");
        Person deployer = person("deployer");
        long from = headSeq();

        Response asked = requestGrant(engineer1, deployer.name(), "env-file:read");
        assertThat(asked.statusCode()).as(asked.asString()).isEqualTo(202);
        String id = asked.jsonPath().getString("approval.id");
        assertThat(asked.header("Location")).endsWith("/api/v1/approvals/" + id);
        assertThat(asked.jsonPath().getString("approval.status")).isEqualTo("PENDING");
        assertThat(asked.jsonPath().getString("approval.kind")).isEqualTo("GRANT");
        assertThat(asked.jsonPath().getString("approval.requestedBy")).isEqualTo(engineer1.name());
        assertThat(asked.jsonPath().getString("approval.principal")).isEqualTo(deployer.name());
        assertThat(asked.jsonPath().getString("approval.ttl")).isEqualTo("PT2H");
        assertThat(asked.jsonPath().getString("approval.summary"))
                .isEqualTo("grant env-file:read on approved to " + deployer.name() + " for PT2H");
        assertThat(asked.jsonPath().getString("approval.grantId")).isNull();

        // Nothing is granted while it waits.
        assertThat(fetch(deployer)).isEqualTo(403);
        assertThat(as(adminToken()).get("/api/v1/grants?principal=" + deployer.name()).then().statusCode(200)
                .extract().jsonPath().getList("$")).isEmpty();
        assertThat(as(deployer.token()).get("/api/v1/approvals?status=PENDING&environment=" + ENV).then()
                .statusCode(200).extract().jsonPath().getList("id")).contains(id);

        // The requester cannot approve its own request; the deployer's role cannot decide one at all.
        Response own = decide(engineer1, id, "approve");
        assertThat(own.statusCode()).as(own.asString()).isEqualTo(403);
        assertThat(own.jsonPath().getString("detail")).contains("its own request");
        assertThat(decide(deployer, id, "approve").statusCode()).isEqualTo(403);
        assertThat(fetch(deployer)).isEqualTo(403);

        Response approved = decide(engineer2, id, "approve");
        assertThat(approved.statusCode()).as(approved.asString()).isEqualTo(200);
        assertThat(approved.jsonPath().getString("status")).isEqualTo("APPROVED");
        assertThat(approved.jsonPath().getString("decidedBy")).isEqualTo(engineer2.name());
        String grantId = approved.jsonPath().getString("grantId");
        assertThat(grantId).matches("[0-9a-f]{16}");
        assertThat(fetch(deployer)).isEqualTo(200);

        JsonPath grant = as(adminToken()).get("/api/v1/grants/" + grantId).then().statusCode(200).extract().jsonPath();
        assertThat(grant.getString("grantedBy")).isEqualTo(engineer1.name());
        assertThat(grant.getString("approvedBy")).isEqualTo(engineer2.name());
        assertThat(grant.getString("approvalId")).isEqualTo(id);
        // The lifetime counts from the approval.
        assertThat(Duration.between(Instant.parse(grant.getString("grantedAt")),
                Instant.parse(grant.getString("expiresAt")))).isEqualTo(Duration.ofHours(2));
        List<Map<String, Object>> review = as(adminToken()).get("/api/v1/access-review?environment=" + ENV).then()
                .statusCode(200).extract().jsonPath().getList("entries");
        assertThat(review).filteredOn(e -> grantId.equals(e.get("grantId"))).singleElement()
                .satisfies(e -> assertThat(e.get("approvedBy")).isEqualTo(engineer2.name()));

        // Decided once: a second decision is a 409 that says so.
        Response again = decide(engineer2, id, "deny");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.jsonPath().getString("detail")).contains("already APPROVED");

        // The deployer's 403 was refused by the role check before the service: auth.denied, not approval.approve.
        assertThat(events(from, "approval.")).filteredOn(e -> !List.of("approval.list", "approval.read")
                        .contains(e.get("action"))).extracting(e -> e.get("action") + " " + e.get("outcome"))
                .containsExactly("approval.request SUCCESS", "approval.approve DENIED", "approval.approve SUCCESS",
                        "approval.deny FAILED");
    }

    @Test
    void everyRoleAsApproverOfAGrantAndOfARotation() {
        Person admin1 = person("admin");
        Person admin2 = person("admin");
        Person engineer = person("security-engineer");
        Person deployer = person("deployer");
        Person auditor = person("auditor");

        // A grant: admin and security-engineer may approve (grant:manage); deployer and auditor may not.
        for (Person approver : List.of(admin2, engineer)) {
            String id = requestGrant(admin1, deployer.name(), "env-file:write").then().statusCode(202).extract()
                    .path("approval.id");
            assertThat(decide(deployer, id, "approve").statusCode()).isEqualTo(403);
            assertThat(decide(auditor, id, "approve").statusCode()).isEqualTo(403);
            assertThat(decide(approver, id, "approve").statusCode()).isEqualTo(200);
        }
        // The grantee of a grant cannot approve it for itself, even with a role that could.
        String toEngineer = requestGrant(admin1, engineer.name(), "secret:rotate").then().statusCode(202).extract()
                .path("approval.id");
        Response self = decide(engineer, toEngineer, "approve");
        assertThat(self.statusCode()).isEqualTo(403);
        assertThat(self.jsonPath().getString("detail")).contains("grantee");
        assertThat(decide(admin2, toEngineer, "approve").statusCode()).isEqualTo(200);

        // A rotation: the approver needs secret:rotate in its role AND an active grant on the environment.
        grantApproved(admin2, engineer, admin1.name(), "secret:rotate");
        Person requester = person("security-engineer");
        Rotations.awaitIdle(adminToken(), ENV);
        String rotation = requestRotation(requester, admin1, admin2);
        Person engineer2 = person("security-engineer");
        Response withoutGrant = decide(engineer2, rotation, "approve");
        assertThat(withoutGrant.statusCode()).isEqualTo(403);
        assertThat(withoutGrant.jsonPath().getString("detail")).contains("secret:rotate grant");
        assertThat(decide(deployer, rotation, "approve").statusCode()).isEqualTo(403);
        assertThat(decide(auditor, rotation, "approve").statusCode()).isEqualTo(403);
        Response ok = decide(admin1, rotation, "approve");
        assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
        JsonPath done = Rotations.awaitFinished(adminToken(), ok.jsonPath().getString("rotationId"));
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getString("kind")).isEqualTo("MANUAL");
        assertThat(done.getString("requestedBy")).isEqualTo(requester.name());
        assertThat(done.getString("approvedBy")).isEqualTo(admin1.name());
        assertThat(done.getString("approvalId")).isEqualTo(rotation);
    }

    /**
     * {@code engineer} gets a secret:rotate grant on {@link #ENV} (requested and approved by the two admins)
     * and asks for a MANUAL rotation, which waits; returns the approval's id.
     */
    private static String requestRotation(Person engineer, Person admin1, Person admin2) {
        grantApproved(admin1, admin2, engineer.name(), "secret:rotate");
        Response r = as(engineer.token()).contentType(ContentType.JSON).body(Map.of("reason", "approval test"))
                .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/rotations");
        assertThat(r.statusCode()).as(r.asString()).isEqualTo(202);
        assertThat(r.jsonPath().getString("approval.kind")).isEqualTo("ROTATION");
        assertThat(r.jsonPath().getString("approval.rotationKind")).isEqualTo("MANUAL");
        assertThat(r.jsonPath().getString("approval.status")).isEqualTo("PENDING");
        return r.jsonPath().getString("approval.id");
    }

    @Test
    void aRotationWaitsAndAnImportsValueIsSealedUntilApproved() throws Exception {
        Person admin1 = person("admin");
        Person admin2 = person("admin");
        Person engineer = person("security-engineer");
        grantApproved(admin2, engineer, admin1.name(), "secret:rotate");
        grantApproved(admin2, engineer, admin1.name(), "env-file:read");
        grantApproved(admin1, engineer, admin2.name(), "secret:rotate");
        grantApproved(admin1, admin2, engineer.name(), "secret:rotate");
        Rotations.awaitIdle(adminToken(), ENV);
        long rotationsBefore = Db.queryLong("select count(*) from rotation where environment = '" + ENV + "'");

        String value = "ImportedByTwoPeople_" + "q".repeat(50);
        Response asked = as(admin1.token()).contentType(ContentType.JSON)
                .body(Map.of("value", value, "reason", "adopt the old key"))
                .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/import");
        assertThat(asked.statusCode()).as(asked.asString()).isEqualTo(202);
        assertThat(asked.asString()).doesNotContain(value);
        String id = asked.jsonPath().getString("approval.id");
        assertThat(asked.jsonPath().getString("approval.rotationKind")).isEqualTo("IMPORT");
        assertThat(Db.queryLong("select count(*) from rotation where environment = '" + ENV + "'"))
                .as("nothing starts before the approval").isEqualTo(rotationsBefore);
        byte[] sealed = importCiphertext(id);
        assertThat(sealed).isNotNull();
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain(value);

        // An IMPORT chooses the key: a security engineer's role may not read it, so it may not approve one.
        Response engineerApproves = decide(engineer, id, "approve");
        assertThat(engineerApproves.statusCode()).isEqualTo(403);
        assertThat(engineerApproves.jsonPath().getString("detail")).contains("IMPORT");

        Response ok = decide(admin2, id, "approve");
        assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
        JsonPath done = Rotations.awaitFinished(adminToken(), ok.jsonPath().getString("rotationId"));
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getString("kind")).isEqualTo("IMPORT");
        String file = as(admin1.token()).get("/api/v1/environments/" + ENV + "/env-file").then().statusCode(200)
                .extract().asString();
        assertThat(file).contains("LTC_SECRET_KEY=" + value);
        assertThat(importCiphertext(id)).as("the sealed value is erased once decided").isNull();

        // A denied one: nothing starts, the sealed value is erased; the requester may withdraw its own.
        String denied = as(admin1.token()).contentType(ContentType.JSON)
                .body(Map.of("value", "SecondImportValue_" + "z".repeat(60), "reason", "adopt"))
                .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/import").then().statusCode(202)
                .extract().path("approval.id");
        assertThat(decide(admin1, denied, "deny").statusCode()).isEqualTo(200);
        assertThat(importCiphertext(denied)).isNull();
        JsonPath view = as(adminToken()).get("/api/v1/approvals/" + denied).then().statusCode(200).extract().jsonPath();
        assertThat(view.getString("status")).isEqualTo("DENIED");
        assertThat(view.getString("decidedBy")).isEqualTo(admin1.name());
        assertThat(view.getString("rotationId")).isNull();
    }

    @Test
    void aRequestLapsesWithTheClockAndCannotBeApprovedThen() throws Exception {
        Person engineer1 = person("security-engineer");
        Person engineer2 = person("security-engineer");
        Person deployer = person("deployer");
        String id = requestGrant(engineer1, deployer.name(), "env-file:read").then().statusCode(202).extract()
                .path("approval.id");
        long from = headSeq();

        TestClock.advance(Duration.ofMinutes(61)); // expireAfter: PT1H
        assertThat(as(adminToken()).get("/api/v1/approvals/" + id).then().statusCode(200).extract()
                .jsonPath().getString("status")).isEqualTo("EXPIRED");
        Response late = decide(engineer2, id, "approve");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(late.jsonPath().getString("detail")).contains("lapsed");
        assertThat(fetch(deployer)).isEqualTo(403);

        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(events(from, "approval.expire")).filteredOn(e -> id.equals(e.get("target"))).singleElement()
                .satisfies(e -> assertThat(e.get("actor")).isEqualTo("scheduler"));
        assertThat(Db.queryLong("select count(*) from approval where id = '" + id + "' and status = 'EXPIRED'"))
                .isEqualTo(1);
    }

    @Test
    void anApprovalRacingADenialADisableOrARevocationExactlyOneWins() throws Exception {
        Person admin1 = person("admin");
        Person admin2 = person("admin");
        Person engineer = person("security-engineer");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                // Approve against deny: one 200, one 409; the row says which.
                Person deployer = person("deployer");
                String id = requestGrant(admin1, deployer.name(), "env-file:read").then().statusCode(202).extract()
                        .path("approval.id");
                List<Integer> codes = race(pool, () -> decide(admin2, id, "approve").statusCode(),
                        () -> decide(engineer, id, "deny").statusCode());
                assertThat(codes).as("round %d", round).containsExactlyInAnyOrder(200, 409);
                String status = as(adminToken()).get("/api/v1/approvals/" + id).then().extract().path("status");
                assertThat(status).isEqualTo(codes.get(0) == 200 ? "APPROVED" : "DENIED");
                assertThat(fetch(deployer)).isEqualTo(codes.get(0) == 200 ? 200 : 403);

                // Approve against disabling the grantee: never an active grant for a disabled principal.
                Person leaver = person("deployer");
                String id2 = requestGrant(admin1, leaver.name(), "env-file:read").then().statusCode(202).extract()
                        .path("approval.id");
                List<Integer> second = race(pool, () -> decide(admin2, id2, "approve").statusCode(),
                        () -> as(admin1.token()).delete("/api/v1/principals/" + leaver.name() + "?reason=race")
                                .statusCode());
                assertThat(second.get(1)).isEqualTo(204);
                assertThat(second.get(0)).isIn(200, 409);
                assertThat(Db.queryLong("select count(*) from access_grant g join principal p on p.id = g.principal_id"
                        + " where p.name = '" + leaver.name() + "' and g.revoked_at is null"))
                        .as("round %d: approve %d", round, second.get(0)).isZero();
                assertThat(outcomes(id2, "approval.approve")).containsExactly(second.get(0) == 200 ? "SUCCESS" : "FAILED");
            }

            // Approve a rotation against revoking the approver's secret:rotate grant: either the approval came
            // first (a rotation ran, approved under a grant then in force) or it is refused (403).
            String approverGrant = grantApproved(admin2, engineer, admin1.name(), "secret:rotate");
            Person requester = person("security-engineer");
            Rotations.awaitIdle(adminToken(), ENV);
            String rotation = requestRotation(requester, admin2, engineer);
            List<Integer> third = race(pool, () -> decide(admin1, rotation, "approve").statusCode(),
                    () -> as(admin2.token()).delete("/api/v1/grants/" + approverGrant + "?reason=race").statusCode());
            assertThat(third.get(1)).isEqualTo(204);
            assertThat(third.get(0)).isIn(200, 403);
            long approveSeq = Db.queryLong("select max(seq) from audit_event where action = 'approval.approve' "
                    + "and target = '" + rotation + "'");
            long revokeSeq = Db.queryLong("select max(seq) from audit_event where action = 'grant.revoke' "
                    + "and target = '" + approverGrant + "'");
            // The trail's order is the commits' order: the approval succeeded exactly when it came first.
            assertThat(third.get(0) == 200).as("approve %d at seq %d, revoke at %d", third.get(0), approveSeq,
                    revokeSeq).isEqualTo(approveSeq < revokeSeq);
            if (third.get(0) == 200) {
                String rid = as(adminToken()).get("/api/v1/approvals/" + rotation).then().extract().path("rotationId");
                Rotations.awaitFinished(adminToken(), rid);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<Integer> race(ExecutorService pool, Callable<Integer> a, Callable<Integer> b)
            throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        Future<Integer> fa = pool.submit(() -> {
            start.await();
            return a.call();
        });
        Future<Integer> fb = pool.submit(() -> {
            start.await();
            return b.call();
        });
        start.countDown();
        return new ArrayList<>(List.of(fa.get(), fb.get()));
    }

    @Test
    void theSchedulersRotationsNeverWaitForApproval() throws Exception {
        String env = "approved-due";
        Rotations.awaitIdle(adminToken(), env);
        long approvalsBefore = Db.queryLong("select count(*) from approval where environment = '" + env + "'");
        long before = Db.queryLong("select count(*) from rotation where environment = '" + env
                + "' and kind = 'SCHEDULED' and status = 'COMPLETED'");
        TestClock.advance(Duration.ofMinutes(3)); // past rotateEvery PT2M, whenOverdue: rotate
        scheduler.run(TestClock.now());
        Poll.atMost(Rotations.JOB_DEADLINE).untilAsserted(() ->
                assertThat(Db.queryLong("select count(*) from rotation where environment = '" + env
                        + "' and kind = 'SCHEDULED' and status = 'COMPLETED'")).isGreaterThan(before));
        assertThat(Db.queryLong("select count(*) from approval where environment = '" + env + "'"))
                .isEqualTo(approvalsBefore);
    }

    @Test
    void anEmergencyNeverWaitsAndASecondPersonReviewsIt() throws Exception {
        Person admin1 = person("admin");
        Person admin2 = person("admin");
        Person auditor = person("auditor");
        Person deployer = person("deployer");
        Person engineer = person("security-engineer");
        grantApproved(admin2, engineer, admin1.name(), "secret:rotate");
        String pending = requestGrant(admin2, deployer.name(), "env-file:read").then().statusCode(202).extract()
                .path("approval.id");
        Rotations.awaitIdle(adminToken(), ENV);

        String incident = "INC-AP-" + Long.toHexString(System.nanoTime());
        Response started = as(admin1.token()).contentType(ContentType.JSON)
                .body(Map.of("reason", "key in a log", "incident", incident))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations");
        assertThat(started.statusCode()).as(started.asString()).isEqualTo(202);
        Rotations.awaitFinished(adminToken(), started.jsonPath().getString("id"));
        // A grant still waiting was judged before the leak: the emergency denied it in its own commit.
        JsonPath voided = as(adminToken()).get("/api/v1/approvals/" + pending).then().statusCode(200).extract()
                .jsonPath();
        assertThat(voided.getString("status")).isEqualTo("DENIED");
        assertThat(voided.getString("decisionReason")).contains("emergency");
        assertThat(decide(admin1, pending, "approve").statusCode()).isEqualTo(409);

        Map<String, Object> before = incident(incident);
        assertThat(before.get("reviewRequired")).isEqualTo(true);
        assertThat(before.get("reviewedBy")).isNull();

        assertThat(review(admin1, incident, "I ran it").statusCode()).isEqualTo(403);
        assertThat(review(deployer, incident, "not mine to review").statusCode()).isEqualTo(403);
        Response ok = review(auditor, incident, "checked the log and the new key");
        assertThat(ok.statusCode()).as(ok.asString()).isEqualTo(200);
        assertThat(ok.jsonPath().getString("reviewedBy")).isEqualTo(auditor.name());
        Response again = review(admin2, incident, "me too");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.jsonPath().getString("reviewedBy")).isEqualTo(auditor.name());
        assertThat(incident(incident).get("reviewReason")).isEqualTo("checked the log and the new key");

        assertThat(review(auditor, "INC-NOPE-" + System.nanoTime(), "x").statusCode()).isEqualTo(404);
        assertThat(review(auditor, "a%0Ab", "x").statusCode()).isEqualTo(400);
    }

    @Test
    void anEmergencyUnreviewedForADayIsAlertedOnceAndReported() throws Exception {
        Person admin1 = person("admin");
        Person admin2 = person("admin");
        Person engineer = person("security-engineer");
        grantApproved(admin2, engineer, admin1.name(), "secret:rotate");
        Rotations.awaitIdle(adminToken(), ENV);
        String incident = "INC-OLD-" + Long.toHexString(System.nanoTime());
        String id = as(admin1.token()).contentType(ContentType.JSON)
                .body(Map.of("reason", "drill", "incident", incident))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202).extract()
                .path("id");
        Rotations.awaitFinished(adminToken(), id);
        long from = headSeq();

        TestClock.advance(Duration.ofHours(25));
        assertThat(metric("ltc_incidents_unreviewed")).isGreaterThanOrEqualTo(1.0);
        assertThat(RestAssured.get("/health").then().extract().jsonPath().getString("checks.incident-reviews"))
                .startsWith("OVERDUE");
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(events(from, "incident.review-overdue")).filteredOn(e -> incident.equals(e.get("target")))
                .hasSize(1);

        review(admin2, incident, "late, but reviewed").then().statusCode(200);
        assertThat(Db.queryLong("select count(*) from rotation where id = '" + id + "' and reviewed_at is not null"))
                .isEqualTo(1);
        assertThat(Db.queryLong("select count(*) from rotation where id = '" + id + "' and review_alerted_at is not null"))
                .isEqualTo(1);
    }

    private static Response review(Person by, String incident, String reason) {
        return as(by.token()).urlEncodingEnabled(false).contentType(ContentType.JSON).body(Map.of("reason", reason))
                .post("/api/v1/incidents/" + incident + "/review");
    }

    private static Map<String, Object> incident(String incident) {
        List<Map<String, Object>> all = as(adminToken()).get("/api/v1/incidents?environment=" + ENV + "&limit=1000")
                .then().statusCode(200).extract().jsonPath().getList("$");
        return all.stream().filter(i -> incident.equals(i.get("incident"))).findFirst().orElseThrow();
    }

    private static double metric(String series) {
        String text = RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        return text.lines().filter(l -> l.startsWith(series + " ")).map(l -> Double.parseDouble(l.substring(
                series.length() + 1).trim())).findFirst().orElseThrow(() -> new AssertionError("no series " + series));
    }

    private static byte[] importCiphertext(String id) throws Exception {
        try (Connection c = Db.open();
             PreparedStatement ps = c.prepareStatement("select import_ciphertext from approval where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getBytes(1);
            }
        }
    }

    static long headSeq() throws Exception {
        return Db.queryLong("select coalesce(max(seq), 0) from audit_event");
    }

    /** Events after {@code from} whose action starts with {@code prefix}: action, actor, target, outcome. */
    static List<Map<String, Object>> events(long from, String prefix) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = Db.open(); PreparedStatement ps = c.prepareStatement("select action, actor, target, outcome"
                + " from audit_event where seq > ? and action like ? order by seq")) {
            ps.setLong(1, from);
            ps.setString(2, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Map.of("action", rs.getString(1), "actor", rs.getString(2),
                            "target", String.valueOf(rs.getString(3)), "outcome", rs.getString(4)));
                }
            }
        }
        return out;
    }

    private static List<String> outcomes(String target, String action) throws Exception {
        return events(0, action).stream().filter(e -> target.equals(e.get("target")))
                .map(e -> (String) e.get("outcome")).toList();
    }
}
