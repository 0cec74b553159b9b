package org.lifetimecircle.secrets.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.lifetimecircle.secrets.testing.Api.adminToken;
import static org.lifetimecircle.secrets.testing.Api.as;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.testing.Api;
import org.lifetimecircle.secrets.testing.Db;
import org.lifetimecircle.secrets.testing.Poll;
import org.lifetimecircle.secrets.testing.Rotations;
import org.lifetimecircle.secrets.testing.TestClock;
import org.lifetimecircle.secrets.testing.TestDataDir;

/**
 * The scheduler against the real app: time moved with {@link TestClock} (the app's clock), one run
 * at a time with {@link Housekeeping#run}, exactly what a tick does. The due-* policies rotate every
 * two minutes (warn one minute before), so a few minutes of moved time cover every transition.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class SchedulerTest {

    private static final String SECRET = "LTC_SECRET_KEY";
    private static final List<String> ALERTS = new CopyOnWriteArrayList<>();
    private static HttpServer webhook;
    private static String engineer;
    private static String engineerName;

    @Inject
    Housekeeping scheduler;

    @BeforeAll
    static void alertReceiver() throws Exception {
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", TestDataDir.healthPort()), 0);
        webhook.createContext("/alert", exchange -> {
            ALERTS.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        webhook.start();
    }

    @AfterAll
    static void stopReceiver() {
        webhook.stop(0);
    }

    @BeforeEach
    void engineer() {
        if (engineer != null) {
            return;
        }
        engineerName = Api.uniqueName("scheduler-test");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", engineerName, "role", "security-engineer"))
                .post("/api/v1/principals").then().statusCode(201);
        engineer = as(adminToken()).contentType(ContentType.JSON).body("{}")
                .post("/api/v1/principals/" + engineerName + "/tokens").then().statusCode(201).extract().path("token");
    }

    /**
     * A fresh CURRENT created now, and the scheduler's record brought up to date: the start of each
     * test. The grant is new each time: an emergency the scheduler ran meanwhile revoked the old one.
     */
    private long freshVersion(String env) {
        Rotations.awaitIdle(engineer, env);
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", engineerName, "environment", env,
                        "permission", "secret:rotate", "ttl", "PT20H", "reason", "scheduler test"))
                .post("/api/v1/grants").then().statusCode(201);
        JsonPath r = Rotations.rotateAndWait(engineer, env, SECRET);
        assertThat(r.getString("status")).isEqualTo("COMPLETED");
        scheduler.run(TestClock.now());
        return r.getLong("toVersion");
    }

    @Test
    void eachChangeOfStatusIsOneEventAndOneAlertNeverOnePerRun() throws Exception {
        long version = freshVersion("due-flag");
        long from = headSeq();
        int alertsBefore = ALERTS.size();

        scheduler.run(TestClock.now());
        assertThat(status("due-flag")).isEqualTo("OK");
        assertThat(statusEvents(from, "due-flag")).isEmpty();

        TestClock.advance(Duration.ofSeconds(70)); // within warnBefore of rotateEvery
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(status("due-flag")).isEqualTo("DUE_SOON");
        assertThat(statusEvents(from, "due-flag")).containsExactly("secret.due-soon");

        TestClock.advance(Duration.ofSeconds(60)); // past rotateEvery
        for (int i = 0; i < 3; i++) {
            scheduler.run(TestClock.now());
        }
        assertThat(status("due-flag")).isEqualTo("OVERDUE");
        assertThat(statusEvents(from, "due-flag")).containsExactly("secret.due-soon", "secret.overdue");
        List<Map<String, Object>> overdue = eventRows(from, "due-flag", "secret.overdue");
        assertThat(overdue.get(0).get("actor")).isEqualTo("scheduler");
        assertThat((String) overdue.get(0).get("details")).contains("\"version\":" + version, "\"whenOverdue\":\"flag\"");
        awaitAlerts(alertsBefore, "secret.due-soon", "secret.overdue");

        // flag: nothing rotated, the version stays, and the metric says so.
        assertThat(scheduledFrom("due-flag", version)).isEmpty();
        assertThat(currentVersion("due-flag")).isEqualTo(version);
        assertThat(metric("ltc_secret_overdue{environment=\"due-flag\",secret=\"LTC_SECRET_KEY\"}")).isEqualTo(1.0);

        // A rotation makes it OK again: one more event, then quiet.
        long next = Rotations.rotateAndWait(engineer, "due-flag", SECRET).getLong("toVersion");
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(statusEvents(from, "due-flag")).containsExactly("secret.due-soon", "secret.overdue",
                "secret.ok");
        assertThat((String) eventRows(from, "due-flag", "secret.ok").get(0).get("details"))
                .contains("\"version\":" + next, "\"previousStatus\":\"OVERDUE\"");
        assertThat(metric("ltc_secret_overdue{environment=\"due-flag\",secret=\"LTC_SECRET_KEY\"}")).isEqualTo(0.0);
    }

    @Test
    void rotateStartsOneScheduledRotationAndRetiresThePreviousAfterItsGrace() throws Exception {
        long version = freshVersion("due-rotate");
        long from = headSeq();
        TestClock.advance(Duration.ofSeconds(130));
        scheduler.run(TestClock.now());

        List<Map<String, Object>> scheduled = scheduledFrom("due-rotate", version);
        assertThat(scheduled).hasSize(1);
        JsonPath done = Rotations.awaitFinished(engineer, (String) scheduled.get(0).get("id"));
        assertThat(done.getString("status")).isEqualTo("COMPLETED");
        assertThat(done.getString("kind")).isEqualTo("SCHEDULED");
        assertThat(done.getString("requestedBy")).isEqualTo("scheduler");
        assertThat(done.getLong("fromVersion")).isEqualTo(version);
        assertThat(currentVersion("due-rotate")).isEqualTo(version + 1);
        assertThat(events(from, "due-rotate", "secret.overdue")).hasSize(1);
        assertThat(eventRows(from, "due-rotate", "rotation.request").get(0).get("actor")).isEqualTo("scheduler");

        // The next runs see the new version OK: one secret.ok, no second rotation.
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(scheduledFrom("due-rotate", version)).hasSize(1);
        assertThat(scheduledFrom("due-rotate", version + 1)).isEmpty();
        assertThat(statusEvents(from, "due-rotate")).containsExactly("secret.overdue", "secret.ok");

        // previousGrace PT1M: the replaced version stays readable for a minute, then is RETIRED.
        assertThat(versionState("due-rotate", version)).isEqualTo("PREVIOUS");
        TestClock.advance(Duration.ofSeconds(61));
        scheduler.run(TestClock.now());
        assertThat(versionState("due-rotate", version)).isEqualTo("RETIRED");
        assertThat(eventRows(from, "due-rotate", "secret.retire").stream()
                .filter(e -> JsonPath.from((String) e.get("details")).getLong("version") == version)).hasSize(1);
        assertThat(Db.queryLong("select count(*) from secret_version where environment = 'due-rotate' "
                + "and version = " + version + " and ciphertext is not null")).isZero();
    }

    @Test
    void aFailedScheduledRotationIsNotRetriedEveryRun() throws Exception {
        long version = freshVersion("due-rotate");
        // Someone else's file in its place (onDrift: flag leaves it): the SCHEDULED rotation fails at its write.
        java.nio.file.Path file = TestDataDir.fileRoot().resolve("etc/lifetimecircle/due-rotate.env");
        java.nio.file.Files.writeString(file, "LTC_SECRET_KEY=planted-by-someone-else\n");
        int alertsBefore = ALERTS.size();
        String failedSeries = "ltc_rotations_total{environment=\"due-rotate\",kind=\"SCHEDULED\",outcome=\"FAILED\"}";
        double failedBefore = metric(failedSeries);
        try {
            // A scrape lands just before the rotation ends, as with Prometheus scraping: the scrape right
            // after the end must count it (a count cached for a second by time alone read the old value).
            try (Scraper prometheus = new Scraper()) {
                TestClock.advance(Duration.ofSeconds(130));
                scheduler.run(TestClock.now());
                List<Map<String, Object>> scheduled = scheduledFrom("due-rotate", version);
                assertThat(scheduled).hasSize(1);
                JsonPath failed = Rotations.awaitFinished(engineer, (String) scheduled.get(0).get("id"));
                assertThat(failed.getString("status")).isEqualTo("FAILED");
                assertThat(metric(failedSeries)).isEqualTo(failedBefore + 1);
            }
            scheduler.run(TestClock.now());
            scheduler.run(TestClock.now());
            assertThat(scheduledFrom("due-rotate", version)).hasSize(1);
            assertThat(currentVersion("due-rotate")).isEqualTo(version);
            assertThat(status("due-rotate")).isEqualTo("OVERDUE");
            assertThat(metric(failedSeries)).isEqualTo(failedBefore + 1);
            awaitAlerts(alertsBefore, "secret.overdue", "rotation.failed");
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void emergencyRunsTheEmergencyProcedure() throws Exception {
        long version = freshVersion("due-emergency");
        long from = headSeq();
        TestClock.advance(Duration.ofSeconds(130));
        scheduler.run(TestClock.now());

        List<Object> ids = as(engineer).queryParam("environment", "due-emergency").queryParam("kind", "EMERGENCY")
                .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("id");
        assertThat(ids).isNotEmpty();
        JsonPath emergency = Rotations.awaitFinished(engineer, (String) ids.get(0));
        assertThat(emergency.getString("status")).isEqualTo("COMPLETED");
        assertThat(emergency.getString("requestedBy")).isEqualTo("scheduler");
        assertThat(versionState("due-emergency", version)).isEqualTo("REVOKED");
        assertThat(currentVersion("due-emergency")).isGreaterThan(version);
        assertThat(events(from, "due-emergency", "emergency.")).containsExactly("emergency.start",
                "emergency.complete");

        // The new version is OK: no second emergency.
        scheduler.run(TestClock.now());
        assertThat(as(engineer).queryParam("environment", "due-emergency").queryParam("kind", "EMERGENCY")
                .get("/api/v1/rotations").then().extract().jsonPath().getList("id")).hasSize(ids.size());
    }

    @Test
    void expiredGrantsAndTokensAreRecordedOnce() throws Exception {
        String name = Api.uniqueName("short-lived");
        as(adminToken()).contentType(ContentType.JSON).body(Map.of("name", name, "role", "deployer"))
                .post("/api/v1/principals").then().statusCode(201);
        String tokenId = as(adminToken()).contentType(ContentType.JSON).body(Map.of("ttl", "PT30S"))
                .post("/api/v1/principals/" + name + "/tokens").then().statusCode(201).extract().path("id");
        String grantId = as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name,
                        "environment", "due-flag", "permission", "env-file:read", "ttl", "PT30S", "reason", "expiry"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
        String revokedId = as(adminToken()).contentType(ContentType.JSON).body(Map.of("principal", name,
                        "environment", "due-rotate", "permission", "env-file:read", "ttl", "PT30S", "reason", "expiry"))
                .post("/api/v1/grants").then().statusCode(201).extract().path("id");
        as(adminToken()).queryParam("reason", "not needed").delete("/api/v1/grants/" + revokedId).then().statusCode(204);
        long from = headSeq();

        scheduler.run(TestClock.now());
        assertThat(targets(from, "grant.expire")).doesNotContain(grantId);

        TestClock.advance(Duration.ofSeconds(31));
        scheduler.run(TestClock.now());
        scheduler.run(TestClock.now());
        assertThat(targets(from, "grant.expire")).containsOnlyOnce(grantId).doesNotContain(revokedId);
        assertThat(targets(from, "token.expire")).containsOnlyOnce(tokenId);
        Map<String, Object> event = eventRows(from, "due-flag", "grant.expire").stream()
                .filter(e -> grantId.equals(e.get("target"))).findFirst().orElseThrow();
        assertThat(event.get("actor")).isEqualTo("scheduler");
        assertThat((String) event.get("details")).contains(name, "env-file:read");
    }

    @Test
    void aRunRecordsItsSuccessInTheMetrics() {
        Instant at = TestClock.now();
        Housekeeping.Report report = scheduler.run(at);
        assertThat(report.success()).isTrue();
        assertThat(metric("ltc_scheduler_last_success_timestamp_seconds")).isEqualTo((double) at.getEpochSecond());
        assertThat(metric("ltc_scheduler_runs_total{outcome=\"success\"}")).isGreaterThanOrEqualTo(1.0);
    }

    // --- helpers ---

    private static String status(String env) {
        return as(engineer).get("/api/v1/environments/" + env).then().statusCode(200).extract()
                .path("secrets[0].status");
    }

    private static long currentVersion(String env) {
        return ((Number) as(engineer).get("/api/v1/environments/" + env).then().statusCode(200).extract()
                .path("secrets[0].currentVersion")).longValue();
    }

    private static String versionState(String env, long version) {
        List<Map<String, Object>> versions = as(engineer).get("/api/v1/environments/" + env + "/secrets/" + SECRET
                + "/versions").then().statusCode(200).extract().jsonPath().getList("$");
        return versions.stream().filter(v -> ((Number) v.get("version")).longValue() == version)
                .map(v -> (String) v.get("state")).findFirst().orElseThrow();
    }

    /** The SCHEDULED rotations of {@code env} away from {@code version}. */
    private static List<Map<String, Object>> scheduledFrom(String env, long version) {
        List<Map<String, Object>> all = as(engineer).queryParam("environment", env).queryParam("kind", "SCHEDULED")
                .get("/api/v1/rotations").then().statusCode(200).extract().jsonPath().getList("$");
        return all.stream().filter(r -> r.get("fromVersion") != null
                && ((Number) r.get("fromVersion")).longValue() == version).toList();
    }

    /**
     * Scrapes the metrics on its own thread until closed, as Prometheus would, so that some scrape
     * always lands just before whatever the test does next.
     */
    private static final class Scraper implements AutoCloseable {
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        private final Thread thread;

        Scraper() {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpRequest scrape = java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + io.restassured.RestAssured.port + "/q/metrics")).build();
            thread = new Thread(() -> {
                while (!done.get()) {
                    try {
                        http.send(scrape, java.net.http.HttpResponse.BodyHandlers.discarding());
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "scraper");
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            done.set(true);
            thread.join(10_000);
        }
    }

    static double metric(String series) {
        String text = io.restassured.RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        return text.lines().filter(l -> l.startsWith(series + " ")).map(l -> Double.parseDouble(l.substring(
                series.length() + 1).trim())).findFirst().orElseThrow(() -> new AssertionError("no series " + series));
    }

    static long headSeq() throws Exception {
        return Db.queryLong("select coalesce(max(seq), 0) from audit_event");
    }

    /** The due-state events after {@code from} in {@code env}, in order. */
    static List<String> statusEvents(long from, String env) throws Exception {
        return events(from, env, "secret.").stream().filter(a -> !a.equals("secret.retire")).toList();
    }

    /** Actions of events after {@code from} in {@code env} whose action starts with {@code prefix}, in order. */
    static List<String> events(long from, String env, String prefix) throws Exception {
        return eventRows(from, env, prefix).stream().map(e -> (String) e.get("action")).toList();
    }

    static List<Map<String, Object>> eventRows(long from, String env, String prefix) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = Db.open(); PreparedStatement ps = c.prepareStatement("select action, actor, target, "
                + "outcome, details from audit_event where seq > ? and environment = ? and action like ? order by seq")) {
            ps.setLong(1, from);
            ps.setString(2, env);
            ps.setString(3, prefix + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Map.of("action", rs.getString(1), "actor", rs.getString(2),
                            "target", String.valueOf(rs.getString(3)), "outcome", rs.getString(4),
                            "details", rs.getString(5)));
                }
            }
        }
        return out;
    }

    private static List<String> targets(long from, String action) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = Db.open(); PreparedStatement ps = c.prepareStatement(
                "select target from audit_event where seq > ? and action = ? order by seq")) {
            ps.setLong(1, from);
            ps.setString(2, action);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Waits (with a deadline) until the webhook has received alerts of these kinds since {@code from}. */
    static void awaitAlerts(int from, String... kinds) {
        Poll.atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<String> seen = ALERTS.subList(Math.min(from, ALERTS.size()), ALERTS.size()).stream()
                    .map(a -> JsonPath.from(a).getString("alert")).toList();
            assertThat(seen).as("alerts %s not all received; got %s", List.of(kinds), seen).contains(kinds);
        });
    }
}
