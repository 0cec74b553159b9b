package org.lifetimecircle.secrets.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.audit.AuditWriter;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.FileModes;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.StubApp;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * Restart and health check as rotation steps, with a real restart command (a shell script the test
 * rewrites) and a real HTTP health endpoint and alert webhook served by the test.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class AppRestartTest {

    private static final String ENV = "apptest";
    private static final String SECRET = "LTC_SECRET_KEY";
    private static StubApp app;
    private static AtomicInteger HEALTH_STATUS;
    private static List<String> ALERTS;
    private static String token;
    private static String principalName;

    @Inject
    AuditWriter writer;

    @BeforeAll
    static void stubApp() {
        app = StubApp.start();
        HEALTH_STATUS = app.health;
        ALERTS = app.alerts;
    }

    @AfterAll
    static void stopApp() {
        app.close();
    }

    @BeforeEach
    void principal() {
        HEALTH_STATUS.set(200);
        if (token != null) {
            return;
        }
        String name = Api.uniqueName("restarter");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "security-engineer"))
                .post("/api/v1/principals").then().statusCode(201);
        principalName = name;
        token = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                        "permission", "secret:rotate", "ttl", "PT20H", "reason", "app restart test"))
                .post("/api/v1/grants").then().statusCode(201);
    }

    private static Path envFile() {
        return TestDataDir.fileRoot().resolve("etc/lifetimecircle/apptest.env");
    }

    private static Path marker(String name) {
        return TestDataDir.restartScript().resolveSibling(name);
    }

    private static void restartScript(String body) throws Exception {
        Files.writeString(TestDataDir.restartScript(), body + "\n");
    }

    private static String keyIn(String file) {
        return file.lines().filter(l -> l.startsWith(SECRET + "=")).findFirst().orElseThrow().substring(SECRET.length() + 1);
    }

    private static JsonPath rotate() {
        Rotations.awaitIdle(token, ENV);
        return Rotations.rotateAndWait(token, ENV, SECRET);
    }

    private static String step(JsonPath r, String name, String field) {
        List<Map<String, Object>> steps = r.getList("steps");
        return steps.stream().filter(s -> name.equals(s.get("name"))).map(s -> String.valueOf(s.get(field)))
                .reduce((a, b) -> b).orElse(null);
    }

    @Test
    void aWaitingClientSeesTheFileWrittenAndTheRestartDoneWhileTheHealthCheckStillRuns() throws Exception {
        restartScript("echo restarted");
        HEALTH_STATUS.set(503);   // the check polls until its 2 s timeout: the window in which the steps show
        Rotations.awaitIdle(token, ENV);
        String id = Rotations.rotate(token, ENV, SECRET);
        JsonPath running = Poll.until("rotation " + id + " RUNNING with its restart listed", Rotations.JOB_DEADLINE,
                () -> as(token).get("/api/v1/rotations/" + id).then().statusCode(200).extract().jsonPath(),
                r -> !"PENDING".equals(r.getString("status"))
                        && (!"RUNNING".equals(r.getString("status")) || step(r, "restart", "status") != null),
                JsonPath::prettify);
        assertThat(running.getString("status")).as("seen while the health check ran").isEqualTo("RUNNING");
        assertThat(step(running, "write-env-file", "status")).isEqualTo("DONE");
        assertThat(step(running, "restart", "status")).isEqualTo("DONE");
        assertThat(step(running, "health-check", "status")).isNull();

        JsonPath finished = Rotations.awaitFinished(token, id);
        assertThat(finished.getString("status")).isEqualTo("ROLLED_BACK");
        List<String> names = finished.getList("steps.name");
        assertThat(names).as("each step once, journaled").containsOnlyOnce("write-env-file", "restart", "health-check");
        assertThat(names.indexOf("write-env-file")).isLessThan(names.indexOf("restart"));
    }

    @Test
    void aRestartThatComesBackHealthyCompletesTheRotation() throws Exception {
        Path seen = marker("seen.env");
        restartScript("cp '" + envFile() + "' '" + seen + "'\necho restarted");
        String before = keyIn(Files.readString(envFile()));
        JsonPath r = rotate();
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        assertThat(step(r, "restart", "status")).isEqualTo("DONE");
        assertThat(step(r, "restart", "detail")).contains("exit 0").contains("restarted");
        assertThat(step(r, "health-check", "status")).isEqualTo("DONE");
        String after = keyIn(Files.readString(envFile()));
        assertThat(after).isNotEqualTo(before);
        // The app was restarted with the new file in place.
        assertThat(keyIn(Files.readString(seen))).isEqualTo(after);
    }

    @Test
    void aPromotionTheDatabaseRefusesIsRetriedUntilItTakesWritesAgain() throws Exception {
        // drills/faults.sh filled the data directory while the app restarted: the promotion could not be
        // committed, the job gave up and the rotation stayed RUNNING (its new file on disk, not promoted)
        // until a restart. A trigger refusing the rotation.complete event is the same fault, in SQLite.
        restartScript("echo restarted");
        Rotations.awaitIdle(token, ENV);
        long refusedBefore = writer.refusedUnits();
        Db.refuseInserts("refuse_promotion", "audit_event", "NEW.action = 'rotation.complete'",
                "injected: the disk refuses writes");
        String id;
        try {
            id = Rotations.rotate(token, ENV, SECRET);
            Poll.atMost(Duration.ofSeconds(30)).alias("the promotion attempted twice") // refused, and tried again
                    .until(() -> writer.refusedUnits() >= refusedBefore + 2);
            assertThat(as(token).get("/api/v1/rotations/" + id).then().statusCode(200).extract().path("status")
                    .toString()).isEqualTo("RUNNING");
        } finally {
            Db.dropRefusal("refuse_promotion", "audit_event");
        }
        JsonPath r = Rotations.awaitFinished(token, id);
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        assertThat(Db.queryLong("select count(*) from audit_event where action = 'rotation.complete' and details like '%"
                + id + "%'")).isEqualTo(1);
        assertThat(states().values()).containsOnlyOnce("CURRENT").doesNotContain("PENDING");
        assertThat(Files.readString(envFile())).startsWith("# ltc-secrets env file: environment=" + ENV
                + " version=" + SECRET + ":" + r.getInt("toVersion") + " ");
    }

    @Test
    void anUnhealthyAppGetsTheOldFileBackAndTheRotationEndsRolledBack() throws Exception {
        Path count = marker("restarts.count");
        Files.deleteIfExists(count);
        restartScript("echo x >> '" + count + "'");
        String before = Files.readString(envFile());
        int alerts = ALERTS.size();
        HEALTH_STATUS.set(503);
        JsonPath r = rotate();
        assertThat(r.getString("status")).isEqualTo("ROLLED_BACK");
        assertThat(step(r, "health-check", "status")).isEqualTo("FAILED");
        assertThat(step(r, "health-check", "detail")).contains("503");
        assertThat(step(r, "restore-env-file", "status")).isEqualTo("DONE");
        assertThat(step(r, "restart-after-rollback", "status")).isEqualTo("DONE");
        assertThat(Files.readString(envFile())).isEqualTo(before);
        assertThat(Files.readAllLines(count)).hasSize(2);
        List<Map<String, Object>> versions = as(token).get("/api/v1/environments/" + ENV + "/secrets/" + SECRET
                + "/versions").then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(versions.get(0)).containsEntry("state", "RETIRED")
                .containsEntry("version", r.getInt("toVersion"));
        assertThat(versions).extracting(v -> v.get("state")).containsOnlyOnce("CURRENT");
        awaitAlert(alerts, "rotation.rolled-back");
    }

    @Test
    void aFailedImportPutsBackTheFileItsValueCameFromNotAGeneratedOne() throws Exception {
        // Go-live: the app already runs with a hand-made file; its key is imported, and the app does
        // not come back healthy. The hand-made file (and its key) must be back, byte for byte.
        Rotations.awaitIdle(token, ENV);
        String key = "handMadeKey_" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR";
        String handMade = "# written by the ops team\nLTC_ENV=apptest\nLTC_SECRET_KEY=" + key + "\n";
        Files.delete(envFile());
        Files.writeString(envFile(), handMade);
        try {
            HEALTH_STATUS.set(503);
            String id = as(importer()).contentType(ContentType.JSON).body(Map.of("value", key, "reason", "adopt the key"))
                    .post("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/import").then().statusCode(202)
                    .extract().path("id");
            JsonPath r = Rotations.awaitFinished(token, id);
            assertThat(r.getString("status")).isEqualTo("ROLLED_BACK");
            assertThat(step(r, "restore-env-file", "detail")).contains("before the import");
            assertThat(Files.readString(envFile())).isEqualTo(handMade);
            assertThat(FileModes.stat(envFile())).isEqualTo("600");
            // The copy the import kept of the hand-made file (for recovery after a crash) is gone once it ended.
            Path copies = TestDataDir.dataDir().resolve("import-backups");
            assertThat(Files.exists(copies)).as("the import kept a copy before replacing the file").isTrue();
            try (java.util.stream.Stream<Path> kept = Files.list(copies)) {
                assertThat(kept.toList()).isEmpty();
            }
            // Still someone else's file: reported as a conflict until it is imported or removed.
            as(token).get("/api/v1/environments/" + ENV).then().statusCode(200).body("envFile.conflict", equalTo(true));
        } finally {
            // Back to a file this service wrote, as the other tests expect.
            Files.delete(envFile());
            HEALTH_STATUS.set(200);
            assertThat(Rotations.rotateAndWait(token, ENV, SECRET).getString("status")).isEqualTo("COMPLETED");
        }
    }

    @Test
    void aHangingRestartIsKilledAtItsTimeoutAndRolledBack() throws Exception {
        Path pids = marker("restart.pids");
        Files.deleteIfExists(pids);
        restartScript("echo $$ >> '" + pids + "'\nexec sleep 60");
        String before = Files.readString(envFile());
        JsonPath r = rotate();
        assertThat(r.getString("status")).isEqualTo("ROLLED_BACK");
        assertThat(step(r, "restart", "status")).isEqualTo("FAILED");
        assertThat(step(r, "restart", "detail")).contains("timed out after PT2S");
        assertThat(step(r, "health-check", "status")).isEqualTo("SKIPPED");
        assertThat(Files.readString(envFile())).isEqualTo(before);
        for (String pid : Files.readAllLines(pids)) {
            assertThat(ProcessHandle.of(Long.parseLong(pid.trim())).map(ProcessHandle::isAlive).orElse(false))
                    .as("restart process " + pid + " was killed").isFalse();
        }
    }

    @Test
    void aFailingRestartIsJournaledWithoutAnySecretInItsOutput() throws Exception {
        restartScript("cat '" + envFile() + "'\necho 'token ltcs_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'\nexit 3");
        String value = keyIn(Files.readString(envFile()));
        JsonPath r = rotate();
        assertThat(r.getString("status")).isEqualTo("ROLLED_BACK");
        String detail = step(r, "restart", "detail");
        assertThat(detail).contains("exit 3").contains("<removed>").doesNotContain(value).doesNotContain("ltcs_");
        assertThat(r.prettify()).doesNotContain(value);
    }

    private static JsonPath emergency(String incident) {
        Rotations.awaitIdle(token, ENV);
        String id = as(token).contentType(ContentType.JSON).body(Map.of("reason", "key leaked", "incident", incident))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        return Rotations.awaitFinished(token, id);
    }

    private static Map<Object, Object> states() {
        Map<Object, Object> out = new java.util.HashMap<>();
        as(token).get("/api/v1/environments/" + ENV + "/secrets/" + SECRET + "/versions").then().statusCode(200)
                .extract().jsonPath().getList("$", Map.class)
                .forEach(v -> out.put(((Number) v.get("version")).longValue(), v.get("state")));
        return out;
    }

    @Test
    void anEmergencyRevokesEveryVersionRotatesAndCutsOffEveryoneElse() throws Exception {
        restartScript("exit 0");
        rotate(); // so there is a PREVIOUS to revoke as well
        Map<Object, Object> before = states();
        String oldFile = Files.readString(envFile());
        String other = Api.uniqueName("bystander");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", other, "role", "deployer"))
                .post("/api/v1/principals").then().statusCode(201);
        String otherToken = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + other + "/tokens").then().statusCode(201).extract().path("token");
        String otherGrant = as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", other,
                        "environment", ENV, "permission", "env-file:read", "ttl", "PT2H", "reason", "deploys"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
        as(otherToken).get("/api/v1/environments/" + ENV + "/env-file").then().statusCode(200);
        int alerts = ALERTS.size();

        JsonPath r = emergency("INC-2026-0042");
        assertThat(r.getString("kind")).isEqualTo("EMERGENCY");
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        assertThat(r.getString("secret")).isNull();
        assertThat(r.getList("secrets.name")).containsExactly(SECRET);
        assertThat(r.getList("steps.name")).containsSubsequence("request", "pre-empt", "revoke-grants",
                "revoke-versions", "generate-and-promote", "start", "write-env-file", "restart", "health-check",
                "record-incident", "finish");
        assertThat(r.getList("steps.at")).doesNotContainNull();

        Map<Object, Object> after = states();
        before.forEach((version, state) -> {
            if ("CURRENT".equals(state) || "PREVIOUS".equals(state)) {
                assertThat(after.get(version)).as("version " + version).isEqualTo("REVOKED");
            }
        });
        assertThat(after.values()).containsOnlyOnce("CURRENT");
        String newFile = Files.readString(envFile());
        assertThat(keyIn(newFile)).isNotEqualTo(keyIn(oldFile));
        // Everyone else is cut off; the caller keeps working.
        as(otherToken).get("/api/v1/environments/" + ENV + "/env-file").then().statusCode(403);
        as(adminToken()).get("/api/v1/grants/" + otherGrant).then().statusCode(200)
                .body("active", org.hamcrest.Matchers.equalTo(false));
        rotate();
        List<Map<String, Object>> incidents = as(token).get("/api/v1/incidents").then().statusCode(200)
                .extract().jsonPath().getList("$");
        assertThat(incidents).anySatisfy(i -> assertThat(i).containsEntry("incident", "INC-2026-0042")
                .containsEntry("outcome", "COMPLETED").containsEntry("rotationId", r.getString("id")));
        awaitAlert(alerts, "emergency.completed");
    }

    @Test
    void anEmergencyWhoseHealthCheckFailsEndsFailedAndNeverBringsARevokedValueBack() throws Exception {
        restartScript("exit 0");
        String oldValue = keyIn(Files.readString(envFile()));
        int alerts = ALERTS.size();
        HEALTH_STATUS.set(500);
        JsonPath r = emergency("INC-unhealthy");
        assertThat(r.getString("status")).isEqualTo("FAILED");
        assertThat(step(r, "health-check", "status")).isEqualTo("FAILED");
        String file = Files.readString(envFile());
        assertThat(file).doesNotContain(oldValue);
        assertThat(states().values()).containsOnlyOnce("CURRENT");
        awaitAlert(alerts, "emergency.failed");
    }

    @Test
    void anEmergencyPreEmptsARunningRotation() throws Exception {
        Path started = marker("slow-restart.started");
        Files.deleteIfExists(started);
        restartScript("touch '" + started + "'\nsleep 1");
        Rotations.awaitIdle(token, ENV);
        String slow = Rotations.rotate(token, ENV, SECRET);
        // The slow rotation is inside its restart step.
        Poll.atMost(Duration.ofSeconds(20)).alias(started + " exists").until(() -> Files.exists(started));
        String id = as(token).contentType(ContentType.JSON).body(Map.of("reason", "leak during rotation"))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        JsonPath pre = Rotations.awaitFinished(token, slow);
        assertThat(pre.getString("status")).isEqualTo("FAILED");
        assertThat(pre.getList("steps.name")).contains("pre-empted");
        JsonPath e = Rotations.awaitFinished(token, id);
        assertThat(e.getString("status")).isEqualTo("COMPLETED");
        assertThat(e.getString("incident")).isEqualTo("EMR-" + id);
        assertThat(states().values()).containsOnlyOnce("CURRENT").doesNotContain("PENDING");
        assertThat(keyIn(Files.readString(envFile()))).isNotNull();
        // While it ran, no other rotation of the environment could start; now one can.
        restartScript("exit 0");
        assertThat(rotate().getString("status")).isEqualTo("COMPLETED");
    }

    @Test
    void incidentsListEachEmergencyWithItsIdCallerTimeReasonAndOutcomeNewestFirst() throws Exception {
        restartScript("exit 0");
        JsonPath completed = emergency("INC-2026-0100");
        assertThat(completed.getString("status")).isEqualTo("COMPLETED");
        HEALTH_STATUS.set(500);
        Rotations.awaitIdle(token, ENV);
        String failedId = as(token).contentType(ContentType.JSON).body(Map.of("reason", "key seen in a support ticket"))
                .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(202)
                .extract().path("id");
        JsonPath failed = Rotations.awaitFinished(token, failedId);
        assertThat(failed.getString("status")).isEqualTo("FAILED");
        HEALTH_STATUS.set(200);

        // Any role with metadata:read reads them; here the security engineer who ran them.
        List<Map<String, Object>> incidents = as(token).queryParam("environment", ENV).queryParam("limit", 2)
                .get("/api/v1/incidents").then().statusCode(200).extract().jsonPath().getList("$");
        assertThat(incidents).hasSize(2);
        assertThat(incidents).allSatisfy(i -> assertThat(i).containsOnlyKeys("incident", "rotationId", "environment",
                "requestedBy", "reason", "requestedAt", "finishedAt", "outcome", "reviewRequired", "reviewedBy", "reviewedAt",
                "reviewReason"));
        Map<String, Object> newest = incidents.get(0);
        assertThat(newest).containsEntry("rotationId", failedId)
                .containsEntry("incident", "EMR-" + failedId) // none given: one is made up from the rotation id
                .containsEntry("environment", ENV)
                .containsEntry("requestedBy", principalName)
                .containsEntry("reason", "key seen in a support ticket")
                .containsEntry("requestedAt", failed.getString("requestedAt"))
                .containsEntry("finishedAt", failed.getString("finishedAt"))
                .containsEntry("outcome", "FAILED");
        assertThat(incidents.get(1)).containsEntry("rotationId", completed.getString("id"))
                .containsEntry("incident", "INC-2026-0100")
                .containsEntry("requestedBy", principalName)
                .containsEntry("reason", "key leaked")
                .containsEntry("requestedAt", completed.getString("requestedAt"))
                .containsEntry("finishedAt", completed.getString("finishedAt"))
                .containsEntry("outcome", "COMPLETED");
        assertThat(Instant.parse((String) newest.get("requestedAt")))
                .isAfterOrEqualTo(Instant.parse((String) incidents.get(1).get("requestedAt")));
        assertThat(Instant.parse((String) newest.get("finishedAt")))
                .isAfterOrEqualTo(Instant.parse((String) newest.get("requestedAt")));
        // Without a filter every environment's incidents are listed (the scheduler may add its own).
        assertThat(as(token).get("/api/v1/incidents").then().statusCode(200).extract().jsonPath()
                .<String>getList("rotationId")).contains(failedId, completed.getString("id"));
        as(token).queryParam("environment", "no-such-env").get("/api/v1/incidents").then().statusCode(200)
                .body("size()", equalTo(0));
        for (String[] bad : new String[][] {{"limit", "0"}, {"limit", "1001"}, {"limit", "x"}, {"environment", "PROD"}}) {
            as(token).queryParam(bad[0], bad[1]).get("/api/v1/incidents").then().statusCode(400)
                    .contentType("application/problem+json").body("code", equalTo("invalid-request"));
        }
    }

    @Test
    void badEmergencyRequestsAre400AndRevokeNothing() throws Exception {
        Rotations.awaitIdle(token, ENV);
        Map<Object, Object> before = states();
        String file = Files.readString(envFile());
        for (String body : List.of("{}", "{\"reason\":\"a\\nb\"}", "{\"reason\":\"leak\",\"incident\":\"../x\"}",
                "{\"reason\":\"leak\",\"force\":true}", "{\"reason\":5}", "{\"reason\":")) {
            as(token).contentType(ContentType.JSON).body(body)
                    .post("/api/v1/environments/" + ENV + "/emergency-rotations").then().statusCode(400)
                    .contentType("application/problem+json");
        }
        as(token).contentType(ContentType.JSON).body(Map.of("reason", "leak"))
                .post("/api/v1/environments/nowhere/emergency-rotations").then().statusCode(403);
        assertThat(states()).isEqualTo(before);
        assertThat(Files.readString(envFile())).isEqualTo(file);
    }

    /** An admin with secret:rotate and env-file:read on the environment: an import needs both. */
    private static String importer() {
        String name = Api.uniqueName("importer");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "admin"))
                .post("/api/v1/principals").then().statusCode(201);
        for (String permission : List.of("secret:rotate", "env-file:read")) {
            as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name, "environment", ENV,
                            "permission", permission, "ttl", "PT2H", "reason", "import test"))
                    .post("/api/v1/grants").then().statusCode(201);
        }
        return as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("token");
    }

    private static void awaitAlert(int before, String kind) {
        Poll.atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(ALERTS.stream().skip(before))
                .as("no %s alert reached the webhook; got %s", kind, ALERTS)
                .anyMatch(a -> a.contains("\"" + kind + "\"")));
    }
}
